/** The mailproxy version, shown by --version and /status. */
export const VERSION = "0.1.0";
