/**
 * Every fixed line mailproxy itself says to an IMAP client (the lines of the dialogue
 * live beside the parser in frontend.ts). Untagged `* BYE` may come at any time
 * (RFC 9051 §7.1.5), which is why it serves refusals, certificate errors and goodbyes.
 * @module
 */

/** nginx's internal-error line (backend or auth service failed). */
export const INTERNAL_ERROR = "* BAD internal server error\r\n";

/** The fixed lines of the IMAP record (see ../record.ts). */
export const IMAP_LINES = {
  internalError: INTERNAL_ERROR,
  accessDenied: "* BYE Access denied\r\n",
  busy: "* BYE Too many connections, try again later\r\n",
  certError: "* BYE SSL certificate error\r\n",
  certMissing: "* BYE No required SSL certificate\r\n",
  goodbyeShutdown: "* BYE Server shutting down\r\n",
  goodbyeKick: "* BYE Session closed by administrator\r\n",
  // RFC 5530 UNAVAILABLE (try again later), tagged with the login command's tag by the front end.
  unavailable: "NO [UNAVAILABLE] Backend server unavailable, try again later\r\n",
  loginBlocked: "NO [UNAVAILABLE] Too many failed logins, try again later\r\n",
} as const;
