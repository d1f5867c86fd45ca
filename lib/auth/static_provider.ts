/**
 * The static provider: built-in users from `[static_auth]` with scrypt password
 * hashes, for setups without an auth_http server.
 * @module
 */

import type { AuthProvider, AuthRequest, AuthResult } from "./types.ts";
import type { StaticAuthConfig, StaticUser } from "../config/mod.ts";
import { hashPassword, verifyPassword } from "./password_hash.ts";
import type { VerifyCache } from "./password_hash.ts";
import { toBinary, utf8 } from "../util/bytes.ts";
import { randomBytes } from "node:crypto";

/** What the client is told for a wrong password and an unknown user alike. */
export const INVALID_LOGIN = "Invalid login or password";
/** What the client is told for APOP, CRAM-MD5 and EXTERNAL. */
export const UNSUPPORTED_METHOD = "Unsupported authentication method";
/** Default of `[static_auth].failure_wait` (ms). */
export const DEFAULT_FAILURE_WAIT_MS = 2000;

/** Options of {@link StaticAuthProvider} beyond the config. */
export interface StaticAuthProviderOptions {
  /** Verification cache (the process's, passed in by its owner); absent or null: none. */
  cache?: VerifyCache | null;
  /** Password check; replaceable so tests can count hashes instead of timing them. */
  verify?: typeof verifyPassword;
}

/**
 * Decides logins from `[static_auth]`. Only PLAIN (and SMTP `none`) can work: the
 * stored scrypt hash cannot check APOP or CRAM-MD5 digests, which need the plaintext
 * password on the server side, and EXTERNAL has no certificate mapping yet.
 */
export class StaticAuthProvider implements AuthProvider {
  readonly name = "static";
  readonly #config: StaticAuthConfig;
  readonly #users = new Map<string, StaticUser>();
  readonly #cache: VerifyCache | null | undefined;
  readonly #verify: typeof verifyPassword;
  /** Seconds, as {@link AuthResult} counts them (may be fractional). */
  readonly #failureWait: number;
  /** A hash of a random password (default parameters), made on first use. */
  #dummyHash: Promise<string> | null = null;

  constructor(config: StaticAuthConfig, opts: StaticAuthProviderOptions = {}) {
    this.#config = config;
    this.#cache = opts.cache;
    this.#verify = opts.verify ?? verifyPassword;
    this.#failureWait = (config.failure_wait ?? DEFAULT_FAILURE_WAIT_MS) / 1000;
    // Clients send logins as bytes; config names are text, so compare UTF-8 bytes.
    for (const user of config.users) this.#users.set(toBinary(utf8(user.name)), user);
  }

  async authenticate(request: AuthRequest, signal?: AbortSignal): Promise<AuthResult> {
    try {
      return await this.#authenticate(request, signal);
    } catch (err) {
      return { status: "error", reason: `static auth failed: ${err instanceof Error ? err.message : err}` };
    }
  }

  async #authenticate(request: AuthRequest, signal?: AbortSignal): Promise<AuthResult> {
    if (signal?.aborted) return aborted();
    switch (request.method) {
      case "none":
        // SMTP without AUTH (MX use): relay to the smtp backend, no user involved.
        return this.#backend(request, null) ??
          { status: "error", reason: `static auth has no ${request.protocol} backend` };
      case "apop":
      case "cram-md5":
      case "external":
      // Static users have passwords, not tokens: a bearer token is never checked as one.
      case "oauthbearer":
      case "xoauth2":
        return this.#fail(UNSUPPORTED_METHOD);
      case "plain":
        break;
    }
    // An unknown user costs the same scrypt as a wrong password, so timing does not
    // tell which user names exist. The dummy is awaited for known users too, so even
    // the first login (which makes it) takes the same time either way.
    this.#dummyHash ??= hashPassword(randomBytes(16).toString("hex"));
    const dummy = await this.#dummyHash;
    const user = this.#users.get(request.user);
    const hash = user?.password ?? dummy;
    const ok = await this.#verify(request.pass, hash, { cache: this.#cache });
    if (signal?.aborted) return aborted();
    if (!user || !ok) return this.#fail(INVALID_LOGIN);
    return this.#backend(request, user) ??
      { status: "error", reason: `static user ${user.name} has no ${request.protocol} backend` };
  }

  #backend(request: AuthRequest, user: StaticUser | null): AuthResult | null {
    const backend = user?.backend[request.protocol] ?? this.#config.backend[request.protocol];
    if (backend && "upstream" in backend) {
      return { status: "ok", server: "", port: 0, upstream: backend.upstream };
    }
    if (backend) return { status: "ok", server: backend.host, port: backend.port };
    // No backend of its own: the server's default upstream, if it has one.
    if (request.defaultUpstream) {
      return { status: "ok", server: "", port: 0, upstream: request.defaultUpstream };
    }
    return null;
  }

  #fail(message: string): AuthResult {
    // With a wait the session answers later and lets the client retry; 0 closes.
    return { status: "fail", message, wait: this.#failureWait };
  }
}

function aborted(): AuthResult {
  return { status: "error", reason: "static auth aborted" };
}
