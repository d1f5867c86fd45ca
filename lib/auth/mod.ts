/**
 * Authentication: the provider interface, the auth_http and static providers, and
 * the factory that picks one per `[[server]]`.
 * @module
 */

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
  verifyPassword,
} from "./password_hash.ts";
export type { HashPasswordOptions, ScryptParams, VerifyPasswordOptions } from "./password_hash.ts";
export { AuthProviders } from "./providers.ts";
export {
  type AuthCacheSettings,
  AuthResultCache,
  type CacheOutcome,
  CachingAuthProvider,
} from "./result_cache.ts";
