/**
 * Authentication: the provider interface, the auth_http and static providers, and
 * the factory that picks one per `[[server]]`.
 * @module
 */

import type { ServerConfig, StaticAuthConfig } from "../config/types.ts";
import type { Transport } from "../transport/types.ts";
import type { AuthProvider, AuthResult } from "./types.ts";
import { HttpAuthProvider } from "./http_provider.ts";
import { StaticAuthProvider } from "./static_provider.ts";

export type * from "./types.ts";
export {
  AUTH_REPLY_HEAD_LIMIT,
  AuthReplyParser,
  buildAuthRequest,
  decide,
  escapeAuthValue,
  requestHasPassword,
} from "./http_codec.ts";
export type {
  AuthWaitDecision,
  BuildAuthRequestOptions,
  DecideOptions,
  ParsedReply,
  ReplyError,
} from "./http_codec.ts";
export { HttpAuthProvider, MAX_WAIT_ROUNDS } from "./http_provider.ts";
export type { HttpAuthProviderOptions } from "./http_provider.ts";
export {
  DEFAULT_FAILURE_WAIT_MS,
  INVALID_LOGIN,
  StaticAuthProvider,
  UNSUPPORTED_METHOD,
} from "./static_provider.ts";
export type { StaticAuthProviderOptions } from "./static_provider.ts";
export {
  DEFAULT_SCRYPT_PARAMS,
  hashPassword,
  isPasswordHash,
  VerifyCache,
  verifyCache,
  verifyPassword,
} from "./password_hash.ts";
export type { HashPasswordOptions, ScryptParams, VerifyPasswordOptions } from "./password_hash.ts";

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

/**
 * Providers already made, per config generation (the `static_auth` object of one
 * loaded config) and transport; dropped with the config they came from.
 */
const cache = new WeakMap<StaticAuthConfig, WeakMap<Transport, Map<string, AuthProvider>>>();

/**
 * The provider for a server: `auth = "http"` asks `auth_http`, `auth = "static"` uses
 * `[static_auth]`. Servers of one config with the same settings share one instance.
 */
export function createAuthProvider(
  server: ServerConfig,
  staticAuth: StaticAuthConfig,
  transport: Transport,
): AuthProvider {
  let perTransport = cache.get(staticAuth);
  if (!perTransport) cache.set(staticAuth, perTransport = new WeakMap());
  let providers = perTransport.get(transport);
  if (!providers) perTransport.set(transport, providers = new Map());

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
    provider = make(server, staticAuth, transport);
    providers.set(key, provider);
  }
  return provider;
}

function make(server: ServerConfig, staticAuth: StaticAuthConfig, transport: Transport): AuthProvider {
  if (server.auth === "static") return new StaticAuthProvider(staticAuth);
  // Config validation should prevent this; failing each login keeps "never throw".
  if (!server.auth_http) return new BrokenAuthProvider("http", "auth_http is not configured");
  return new HttpAuthProvider({
    url: server.auth_http,
    headers: server.auth_http_header,
    timeoutMs: server.auth_http_timeout,
    transport,
    passClientCert: server.auth_http_pass_client_cert,
    keepAlive: server.auth_http_keepalive,
    keepAliveTimeoutMs: server.auth_http_keepalive_timeout,
  });
}
