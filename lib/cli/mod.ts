/**
 * The command line: running the proxy, `--check`, `hash-password`, `convert`.
 * @module
 */

export { main } from "./main.ts";
