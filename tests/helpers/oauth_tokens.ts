/**
 * The bearer tokens the OAuth tests send: shared with tests/secrets_scan.ts, which
 * checks that no proxy log holds any of them.
 * @module
 */

/** A JWT-shaped token of about 6 KiB: real access tokens are this large. */
export const OAUTH_BIG_TOKEN = "eyJhbGciOiJSUzI1NiJ9." + "x".repeat(6 * 1024) + ".sig";
/** A 4 KiB token: what fits Dovecot's 8 KiB limit on a base64 SASL response, for the replay tests. */
export const OAUTH_4K_TOKEN = "eyJraWQiOiI0ayJ9." + "y".repeat(4 * 1024) + ".sig";
/** A short token the lab auth service accepts. */
export const OAUTH_SHORT_TOKEN = "ya29.short-token";
/** A token the lab auth service refuses with Auth-Error-SASL. */
export const OAUTH_BAD_TOKEN = "expired-token-Qx7";

/** Every token above, for the secret scans. */
export const OAUTH_TEST_TOKENS: readonly string[] = [
  OAUTH_BIG_TOKEN,
  OAUTH_4K_TOKEN,
  OAUTH_SHORT_TOKEN,
  OAUTH_BAD_TOKEN,
];
