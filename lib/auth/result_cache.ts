/**
 * `[auth_cache]`: auth_http answers kept for a while, so a phone that reconnects all
 * day does not ask the auth service each time.
 *
 * - Keyed by an HMAC (per-process random key) of protocol, method, user and password
 *   (and the client address when `client_ip` is set): a changed password misses, and
 *   neither a password nor a plain hash of one is kept.
 * - Each entry is sealed with AES-256-GCM under a key derived from the same secret *and
 *   the password*, with the cache key as associated data: a reply carrying a backend
 *   password (Auth-Pass) cannot be read without the user's password, and a swapped or
 *   flipped entry fails to open (and is dropped).
 * - Only `plain` answers are cached (IMAP LOGIN, POP3 USER/PASS, SASL PLAIN and LOGIN):
 *   CRAM-MD5/APOP prove a password over a
 *   one-time salt (each attempt differs), EXTERNAL and SMTP `none` depend on more than
 *   the credentials.
 * - `Auth-Cache: no` keeps a reply out; `Auth-Cache-TTL: N` replaces ttl/negative_ttl.
 * - `stale_if_error`: an expired positive entry still answers, for this long, when the
 *   auth service fails (error, not a refusal).
 * @module
 */

import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";
import type { AuthProvider, AuthRequest, AuthResult } from "./types.ts";

/** The `[auth_cache]` table, times in ms. */
export interface AuthCacheSettings {
  ttl: number;
  negative_ttl: number;
  stale_if_error: number;
  /** Whether the client address is part of the key. */
  client_ip: boolean;
  /** Most entries kept; the oldest go first. */
  max_entries: number;
}

interface Entry {
  /** IV ‖ ciphertext ‖ tag of the JSON result. */
  sealed: Uint8Array;
  /** When it stops answering normally (ms since the epoch). */
  expires: number;
  /** When it stops answering even while the auth service fails. */
  staleUntil: number;
  /** Keyed hash of the user, for the per-user flush. */
  userTag: string;
}

/** How one lookup went, for logs and tests. */
export type CacheOutcome = "hit" | "miss" | "stale" | "bypass";

/** The cached answers of one process (owned by `Mailproxy`, shared by its providers). */
export class AuthResultCache {
  readonly #secret: Uint8Array;
  readonly #entries = new Map<string, Entry>();
  /** Counts per outcome since start (for tests and the status of the cache). */
  readonly counts: Record<CacheOutcome, number> = { hit: 0, miss: 0, stale: 0, bypass: 0 };

  constructor(secret: Uint8Array = randomBytes(32)) {
    this.#secret = secret;
  }

  /** Entries held (expired ones included until they are swept or replaced). */
  get size(): number {
    return this.#entries.size;
  }

  /** Forgets everything. */
  clear(): void {
    this.#entries.clear();
  }

  /** Forgets one user's entries; returns how many. */
  flushUser(user: string): number {
    const tag = this.#tag("user", user);
    let n = 0;
    for (const [k, e] of this.#entries) {
      if (e.userTag === tag) {
        this.#entries.delete(k);
        n++;
      }
    }
    return n;
  }

  /** Whether a request's answer may be cached at all (`plain` covers LOGIN and USER/PASS too). */
  static cacheable(req: AuthRequest): boolean {
    return req.method === "plain";
  }

  /** The entry's key for a request (the HMAC; never the password). */
  keyOf(req: AuthRequest, settings: AuthCacheSettings): string {
    const parts = [req.protocol, req.method, req.user, req.pass];
    if (settings.client_ip) parts.push(req.clientIp);
    return this.#tag("key", parts.join("\0"));
  }

  /** A fresh (or, with `stale`, a stale-but-allowed) answer; undefined when none. */
  get(req: AuthRequest, key: string, now: number, stale = false): AuthResult | undefined {
    const e = this.#entries.get(key);
    if (!e) return undefined;
    if (now >= e.staleUntil) {
      this.#entries.delete(key);
      return undefined;
    }
    if (now >= e.expires && !stale) return undefined;
    const result = this.#open(req, key, e.sealed);
    if (result === undefined) this.#entries.delete(key);
    return result;
  }

  /** Keeps `result` unless it must not be cached; returns whether it was kept. */
  put(req: AuthRequest, key: string, result: AuthResult, settings: AuthCacheSettings, now: number): boolean {
    if (result.status === "error" || result.cache?.no) return false;
    const configured = result.status === "ok" ? settings.ttl : settings.negative_ttl;
    const ttl = result.cache?.ttlSeconds !== undefined ? result.cache.ttlSeconds * 1000 : configured;
    if (ttl <= 0) return false;
    // A refusal is never served stale: only a known-good login outlives its ttl.
    const staleUntil = now + ttl + (result.status === "ok" ? settings.stale_if_error : 0);
    this.#entries.delete(key);
    while (this.#entries.size >= settings.max_entries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, {
      sealed: this.#seal(req, key, result),
      expires: now + ttl,
      staleUntil,
      userTag: this.#tag("user", req.user),
    });
    return true;
  }

  /** Drops entries past their stale time. */
  sweep(now: number): void {
    for (const [k, e] of this.#entries) if (now >= e.staleUntil) this.#entries.delete(k);
  }

  /** Test hook: flips one byte of an entry's sealed value (as a hostile writer to the store would). */
  tamper(key: string): boolean {
    const e = this.#entries.get(key);
    if (!e) return false;
    e.sealed[e.sealed.length - 20] ^= 1;
    return true;
  }

  #tag(kind: string, text: string): string {
    return createHmac("sha256", this.#secret).update(kind).update("\0").update(text, "latin1").digest(
      "base64url",
    );
  }

  /** The AEAD key of an entry: the secret and the user's password together. */
  #entryKey(req: AuthRequest): Uint8Array {
    return createHmac("sha256", this.#secret).update("seal\0").update(req.user, "latin1").update("\0")
      .update(req.pass, "latin1").digest();
  }

  #seal(req: AuthRequest, key: string, result: AuthResult): Uint8Array {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.#entryKey(req), iv);
    cipher.setAAD(new TextEncoder().encode(key));
    const body = cipher.update(JSON.stringify(result), "utf8");
    const tail = cipher.final();
    const tag = cipher.getAuthTag();
    const out = new Uint8Array(12 + body.length + tail.length + 16);
    out.set(iv, 0);
    out.set(body, 12);
    out.set(tail, 12 + body.length);
    out.set(tag, 12 + body.length + tail.length);
    return out;
  }

  #open(req: AuthRequest, key: string, sealed: Uint8Array): AuthResult | undefined {
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.#entryKey(req), sealed.subarray(0, 12));
      decipher.setAAD(new TextEncoder().encode(key));
      decipher.setAuthTag(sealed.subarray(sealed.length - 16));
      const text = decipher.update(sealed.subarray(12, sealed.length - 16), undefined, "utf8") +
        decipher.final("utf8");
      return JSON.parse(text) as AuthResult;
    } catch {
      return undefined;
    }
  }
}

/**
 * An auth provider with `[auth_cache]` in front: PLAIN/LOGIN answers come from the cache
 * while fresh; a miss asks `inner` and keeps its answer. `settings` is read at each
 * call (a reload applies at once).
 */
export class CachingAuthProvider implements AuthProvider {
  readonly name: string;

  constructor(
    readonly inner: AuthProvider,
    readonly cache: AuthResultCache,
    readonly settings: () => AuthCacheSettings,
  ) {
    this.name = inner.name;
  }

  async authenticate(request: AuthRequest, signal?: AbortSignal): Promise<AuthResult> {
    if (!AuthResultCache.cacheable(request)) {
      this.cache.counts.bypass++;
      return await this.inner.authenticate(request, signal);
    }
    const settings = this.settings();
    const key = this.cache.keyOf(request, settings);
    const hit = this.cache.get(request, key, Date.now());
    if (hit) {
      this.cache.counts.hit++;
      return hit;
    }
    this.cache.counts.miss++;
    const result = await this.inner.authenticate(request, signal);
    if (result.status === "error" && settings.stale_if_error > 0) {
      const stale = this.cache.get(request, key, Date.now(), true);
      if (stale?.status === "ok") {
        this.cache.counts.stale++;
        return stale;
      }
    }
    this.cache.put(request, key, result, settings, Date.now());
    return result;
  }

  close(): void {
    this.inner.close?.();
  }
}
