/**
 * Makes the auth provider of each `[[server]]` and keeps them: servers of one config with
 * the same settings share one instance (and so one keep-alive pool). `Mailproxy` owns one
 * {@link AuthProviders} with the process's transport and the static users' verify cache;
 * nothing here is module state.
 * @module
 */

import type { ServerConfig, StaticAuthConfig } from "../config/mod.ts";
import type { Transport } from "../transport/mod.ts";
import type { AuthProvider, AuthResult } from "./types.ts";
import { HttpAuthProvider } from "./http_provider.ts";
import type { VerifyCache } from "./password_hash.ts";
import { StaticAuthProvider } from "./static_provider.ts";

/** Answers every request with the same error (a server whose auth settings are unusable). */
class BrokenAuthProvider implements AuthProvider {
  readonly name: string;
  readonly #reason: string;

  constructor(name: string, reason: string) {
    this.name = name;
    this.#reason = reason;
  }

  authenticate(): Promise<AuthResult> {
    return Promise.resolve({ status: "error", reason: this.#reason });
  }
}

/** The providers of one process. */
export class AuthProviders {
  readonly #transport: Transport;
  readonly #verifyCache: VerifyCache | null;
  /**
   * Providers per config generation (the `static_auth` object of one loaded config), so a
   * reload makes new ones while sessions of the old config keep theirs.
   */
  readonly #byConfig = new WeakMap<StaticAuthConfig, Map<string, AuthProvider>>();
  /** Every provider made: sessions of an older config may still use theirs until {@link close}. */
  readonly #made = new Set<AuthProvider>();

  /** `verifyCache`: the static users' cache of successful verifications (null: none). */
  constructor(transport: Transport, verifyCache: VerifyCache | null) {
    this.#transport = transport;
    this.#verifyCache = verifyCache;
  }

  /**
   * The provider for a server: `auth = "http"` asks `auth_http`, `auth = "static"` uses
   * `[static_auth]`. Servers of one config with the same settings share one instance.
   */
  for(server: ServerConfig, staticAuth: StaticAuthConfig): AuthProvider {
    let providers = this.#byConfig.get(staticAuth);
    if (!providers) this.#byConfig.set(staticAuth, providers = new Map());
    const key = server.auth === "static" ? "static" : JSON.stringify([
      server.auth_http?.raw ?? null,
      server.auth_http_header,
      server.auth_http_timeout,
      server.auth_http_pass_client_cert,
      server.auth_http_keepalive,
      server.auth_http_keepalive_timeout,
    ]);
    let provider = providers.get(key);
    if (!provider) {
      provider = this.#make(server, staticAuth);
      providers.set(key, provider);
      this.#made.add(provider);
    }
    return provider;
  }

  /** Closes every provider made (keep-alive pools); at shutdown. */
  close(): void {
    for (const p of this.#made) p.close?.();
    this.#made.clear();
  }

  #make(server: ServerConfig, staticAuth: StaticAuthConfig): AuthProvider {
    if (server.auth === "static") return new StaticAuthProvider(staticAuth, { cache: this.#verifyCache });
    // Config validation should prevent this; failing each login keeps "never throw".
    if (!server.auth_http) return new BrokenAuthProvider("http", "auth_http is not configured");
    return new HttpAuthProvider({
      url: server.auth_http,
      headers: server.auth_http_header,
      timeoutMs: server.auth_http_timeout,
      transport: this.#transport,
      passClientCert: server.auth_http_pass_client_cert,
      keepAlive: server.auth_http_keepalive,
      keepAliveTimeoutMs: server.auth_http_keepalive_timeout,
    });
  }
}
