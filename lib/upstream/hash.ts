/**
 * Weighted rendezvous (highest random weight) hashing: every server gets a score from
 * a hash of (key, server address), scaled by its weight; the highest score wins, the
 * rest in score order are the failover order. Adding or removing a server moves only
 * the users whose winner changed (about 1/N of them), and every process computes the
 * same order without sharing anything — the property Dovecot's director ring gave.
 * @module
 */

const TWO_32 = 2 ** 32;

/** FNV-1a over the UTF-16 code units of `text`, then a murmur3 finaliser for avalanche. */
function hash32(text: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The weighted HRW score of `server` for `key` (Schindelhauer and Schomaker's
 * logarithmic method): `weight / -ln(u)` with `u` uniform in (0, 1). A server of weight
 * 2 wins twice as many keys as one of weight 1.
 */
export function hrwScore(key: string, server: string, weight: number): number {
  // 53 bits from two 32-bit hashes keep u away from 0 and 1 and ties practically absent.
  const hi = hash32(server + "\u0000" + key, 0x9e3779b9) >>> 5; // 27 bits
  const lo = hash32(key + "\u0000" + server, 0x7f4a7c15) >>> 6; // 26 bits
  const u = (hi * 67108864 + lo + 0.5) / (TWO_32 * 2097152);
  return weight / -Math.log(u);
}

/** `servers` sorted by descending HRW score for `key` (a new array). */
export function hrwOrder<T extends { address: string; weight: number }>(
  key: string,
  servers: readonly T[],
): T[] {
  return servers
    .map((s) => ({ s, score: hrwScore(key, s.address, s.weight) }))
    .sort((a, b) => b.score - a.score || (a.s.address < b.s.address ? -1 : 1))
    .map((x) => x.s);
}

/**
 * The affinity key of a login under `hash`: the login name the backend sees for
 * `user`, its domain (after the last `@`, lower-cased; the whole name when it has none)
 * for `domain`, and null for `none` (no affinity).
 */
export function affinityKey(hash: "user" | "domain" | "none", login: string): string | null {
  if (hash === "none") return null;
  if (hash === "user") return login;
  const at = login.lastIndexOf("@");
  return (at >= 0 ? login.slice(at + 1) : login).toLowerCase();
}

/** Exposed for tests: a uniform-looking 32-bit hash in [0, 2^32). */
export const _hash32 = hash32;
