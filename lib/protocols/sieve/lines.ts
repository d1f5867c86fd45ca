/**
 * Every fixed line mailproxy itself says to a ManageSieve client (the lines of the
 * dialogue live beside the parser in frontend.ts). `BYE` may end the connection at
 * any time (RFC 5804 §1.3); `TRYLATER` tells the client that trying again later may
 * work.
 * @module
 */

/** Internal error (auth service or backend failed); the connection closes after it. */
export const INTERNAL_ERROR = 'BYE (TRYLATER) "Internal server error."\r\n';

/** No server of the login's `[[upstream]]` could take it right now (the record's `unavailable`). */
export const TEMPORARY_FAILURE = 'NO (TRYLATER) "Service temporarily unavailable, try again later."\r\n';

/** The fixed lines of the ManageSieve record (see ../record.ts). */
export const SIEVE_LINES = {
  internalError: INTERNAL_ERROR,
  accessDenied: 'BYE "Access denied."\r\n',
  busy: 'BYE (TRYLATER) "Too many connections, try again later."\r\n',
  certError: 'BYE "SSL certificate error."\r\n',
  certMissing: 'BYE "No required SSL certificate."\r\n',
  goodbyeShutdown: 'BYE "Server shutting down."\r\n',
  goodbyeKick: 'BYE "Session closed by administrator."\r\n',
  unavailable: TEMPORARY_FAILURE,
  loginBlocked: 'NO (TRYLATER) "Too many failed logins, try again later."\r\n',
} as const;
