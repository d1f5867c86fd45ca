/**
 * Password hashes for the static auth provider: scrypt (node:crypto, so the same code
 * runs on Deno and Bun) stored as PHC strings `$scrypt$ln=14,r=8,p=1$<salt>$<hash>`
 * with unpadded standard base64.
 * @module
 */

import { createHash, randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { fromBinary, utf8 } from "../util/bytes.ts";
import {
  formatScryptHash,
  isPasswordHash,
  parseScryptHash,
  scryptMemory,
  type ScryptParams,
} from "../util/phc_scrypt.ts";

export { isPasswordHash, type ScryptParams };

/**
 * Defaults: N=2^14, r=8, p=1 (16 MiB per hash). Measured on our 2-core lab machine
 * (median of 20 verifications): ~60 ms in Deno 2.9.6, ~42–60 ms in Bun 1.4.4;
 * ln=15 doubles that (~130 ms / ~86 ms). scrypt runs on the runtime's thread pool,
 * not the event loop, so other sessions keep moving meanwhile.
 */
export const DEFAULT_SCRYPT_PARAMS: Readonly<ScryptParams> = { ln: 14, r: 8, p: 1 };

const SALT_BYTES = 16;
const HASH_BYTES = 32;

function derive(
  password: Uint8Array,
  salt: Uint8Array,
  params: ScryptParams,
  keylen: number,
): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    scrypt(
      password,
      salt,
      keylen,
      { N: 1 << params.ln, r: params.r, p: params.p, maxmem: scryptMemory(params) + 1024 * 1024 },
      (err, key) => err ? reject(err) : resolve(new Uint8Array(key)),
    );
  });
}

/** Options of {@link hashPassword}. */
export interface HashPasswordOptions {
  params?: ScryptParams;
  /** Fixed salt, for tests only. */
  salt?: Uint8Array;
}

/** Hashes a password typed as text (hashed as its UTF-8 bytes) into a PHC string. */
export async function hashPassword(plain: string, opts: HashPasswordOptions = {}): Promise<string> {
  const params = opts.params ?? DEFAULT_SCRYPT_PARAMS;
  const salt = opts.salt ?? new Uint8Array(randomBytes(SALT_BYTES));
  const hash = await derive(utf8(plain), salt, params, HASH_BYTES);
  return formatScryptHash(params, salt, hash);
}

/**
 * A bounded LRU of recent successful verifications, so a client that logs in every
 * few seconds (mail apps poll; each IMAP/POP3 connection authenticates) does not pay
 * ~50 ms of scrypt each time.
 *
 * Trade-offs: only successes are stored, so password guessing never gets faster and
 * failed attempts cannot fill or evict the cache. Keys are SHA-256 over the stored
 * hash and the password, so a changed password (new PHC) never matches an old entry;
 * but a key is a fast hash of a password: someone able to read process memory could
 * brute-force it much faster than scrypt (they could also read passwords in flight).
 * Pass `cache: null` to {@link verifyPassword} to opt out.
 */
export class VerifyCache {
  #entries = new Map<string, true>();
  readonly maxEntries: number;

  constructor(maxEntries = 1024) {
    this.maxEntries = maxEntries;
  }

  /** The cache key of a hash/password pair. PHC strings hold no `\n`, so the join is unambiguous. */
  static key(phc: string, password: Uint8Array): string {
    return createHash("sha256").update(phc).update("\n").update(password).digest("base64");
  }

  /** Whether the pair verified recently; refreshes its LRU position. */
  has(key: string): boolean {
    if (!this.#entries.delete(key)) return false;
    this.#entries.set(key, true);
    return true;
  }

  /** Records a success, evicting the least recently used entry when full. */
  add(key: string): void {
    this.#entries.delete(key);
    this.#entries.set(key, true);
    while (this.#entries.size > this.maxEntries) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
  }

  get size(): number {
    return this.#entries.size;
  }

  clear(): void {
    this.#entries.clear();
  }
}

/** Options of {@link verifyPassword}. */
export interface VerifyPasswordOptions {
  /** Successful verifications to reuse (one per process, owned by `Mailproxy`); absent or null: none. */
  cache?: VerifyCache | null;
}

/**
 * Checks a client's password against a PHC string. `plain` is a binary string of the
 * bytes the client sent, so a UTF-8 password matches a hash made from UTF-8 text.
 * Unknown or malformed hashes verify as false. Never throws.
 */
export async function verifyPassword(
  plain: string,
  phc: string,
  opts: VerifyPasswordOptions = {},
): Promise<boolean> {
  const parsed = parseScryptHash(phc);
  if (!parsed) return false;
  const password = fromBinary(plain);
  const cache = opts.cache ?? null;
  const key = cache ? VerifyCache.key(phc, password) : "";
  if (cache?.has(key)) return true;
  let derived: Uint8Array;
  try {
    derived = await derive(password, parsed.salt, parsed.params, parsed.hash.length);
  } catch {
    return false;
  }
  const ok = timingSafeEqual(derived, parsed.hash);
  if (ok) cache?.add(key);
  return ok;
}
