/**
 * The APOP / CRAM-MD5 salt (spec §4.0.6): `<RANDOM.UNIXTIME@server_name>`, the form
 * nginx sends and passes to the auth server as `Auth-Salt`.
 * @module
 */

/** nginx's RANDOM is `random()`: a decimal in 0..2^31-1. */
const RANDOM_RANGE = 2 ** 31;

/**
 * Makes a salt without CRLF. `random` returns a float in [0, 1) like `Math.random`;
 * `now` returns milliseconds like `Date.now` (both replaceable in tests).
 */
export function makeSalt(
  serverName: string,
  random: () => number = Math.random,
  now: () => number = Date.now,
): string {
  const r = Math.floor(random() * RANDOM_RANGE);
  const value = Number.isFinite(r) ? Math.min(RANDOM_RANGE - 1, Math.max(0, r)) : 0;
  const seconds = Math.floor(now() / 1000);
  return `<${value}.${Number.isFinite(seconds) ? seconds : 0}@${serverName}>`;
}
