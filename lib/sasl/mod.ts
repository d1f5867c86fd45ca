/**
 * Protocol-independent SASL pieces shared by the IMAP, POP3, SMTP and ManageSieve front ends.
 * @module
 */

export { decodeBase64Lenient, encodeBase64 } from "./base64.ts";
export { makeSalt } from "./salt.ts";
export { isUnsafeCredential } from "./safe_credentials.ts";
export {
  PASSWORD_CHALLENGE,
  SaslExchange,
  type SaslOutcome,
  type SaslPolicy,
  type SaslStage,
  startSasl,
  USERNAME_CHALLENGE,
} from "./mechanisms.ts";
export {
  decodeOAuthBearer,
  decodeXOAuth2,
  encodeOAuthBearer,
  encodeXOAuth2,
  type OAuthDecoded,
  type OAuthResponse,
} from "./oauth.ts";
