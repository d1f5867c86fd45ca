/**
 * Every fixed line mailproxy itself says to an SMTP client (the lines of the dialogue
 * live beside the parser in frontend.ts).
 * - Access denied is final: `554 5.7.1` instead of the greeting refuses the session
 *   (RFC 5321 §3.1).
 * - Too many connections is temporary: `421 4.7.0`, so a sending MTA queues and
 *   retries instead of bouncing the message as a 5xx would make it do.
 * - Goodbyes are `421 4.3.2` (RFC 5321 §3.8: a server may send 421 at any time).
 * @module
 */

/** nginx's internal-error line (backend or auth service failed). */
export const SMTP_INTERNAL_ERROR = "451 4.3.2 Internal server error\r\n";

/** The fixed lines of the SMTP record (see ../record.ts). */
export const SMTP_LINES = {
  internalError: SMTP_INTERNAL_ERROR,
  accessDenied: "554 5.7.1 Access denied\r\n",
  busy: "421 4.7.0 Too many connections, try again later\r\n",
  certError: "421 4.7.1 SSL certificate error\r\n",
  certMissing: "421 4.7.1 No required SSL certificate\r\n",
  goodbyeShutdown: "421 4.3.2 Service shutting down, closing transmission channel\r\n",
  goodbyeKick: "421 4.3.2 Session closed by administrator, closing transmission channel\r\n",
  // A transient 451 (RFC 3463 4.3.0), never a 5xx: the client should come back later.
  unavailable: "451 4.3.0 Backend server unavailable, try again later\r\n",
  // RFC 4954 §6: 454 4.7.0 "Temporary authentication failure" — the client may retry later.
  loginBlocked: "454 4.7.0 Too many failed logins, try again later\r\n",
} as const;
