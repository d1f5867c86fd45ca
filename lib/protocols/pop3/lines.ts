/**
 * Every fixed line mailproxy itself says to a POP3 client (the lines of the dialogue
 * live beside the parser in frontend.ts). POP3 has no unsolicited replies, so a
 * goodbye is a `-ERR` the client reads as the answer to whatever it sends next.
 * @module
 */

/** nginx's internal-error line (backend or auth service failed). */
export const INTERNAL_ERROR = "-ERR internal server error\r\n";

/** The fixed lines of the POP3 record (see ../record.ts). */
export const POP3_LINES = {
  internalError: INTERNAL_ERROR,
  accessDenied: "-ERR Access denied\r\n",
  busy: "-ERR Too many connections, try again later\r\n",
  certError: "-ERR SSL certificate error\r\n",
  certMissing: "-ERR No required SSL certificate\r\n",
  goodbyeShutdown: "-ERR Server shutting down\r\n",
  goodbyeKick: "-ERR Session closed by administrator\r\n",
  // RFC 3206 SYS/TEMP: try again later.
  unavailable: "-ERR [SYS/TEMP] Backend server unavailable, try again later\r\n",
  loginBlocked: "-ERR [SYS/TEMP] Too many failed logins, try again later\r\n",
} as const;
