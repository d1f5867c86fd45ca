/**
 * The guard against command injection through credentials.
 *
 * Deliberate divergence from nginx (spec §6): nginx passes decoded logins and
 * passwords on as they are, so a CR or LF hidden in base64 (or in an IMAP literal or
 * quoted string) ends up inside the raw `USER`/`PASS`/`XCLIENT` lines it writes to the
 * backend and starts a new command there; a NUL truncates values in many servers.
 * mailproxy refuses such credentials with the protocol's invalid-command reply
 * instead. No real mail account has these bytes in its name or password.
 * @module
 */

const UNSAFE = /[\r\n\0]/;

/** True when a login or password (binary string) contains CR, LF or NUL. */
export function isUnsafeCredential(text: string): boolean {
  return UNSAFE.test(text);
}
