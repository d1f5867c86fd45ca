/**
 * Decoders for the two OAuth 2.0 SASL mechanisms, sans-I/O: the decoded initial
 * client response in, the authorization identity and the bearer token out.
 *
 * - OAUTHBEARER (RFC 7628 §3.1): `gs2-header ^A *(key=value ^A) ^A`, the GS2 header
 *   being `n,a=user,` (or `y,`/`n,` without `a=`; `=2C`/`=3D` escape `,`/`=` in the
 *   authzid). `host=` and `port=` are accepted and ignored; `auth=Bearer <token>` is
 *   required.
 * - XOAUTH2 (Google's): `user=<user> ^A auth=Bearer <token> ^A ^A`.
 *
 * Parsing is liberal (the final `^A^A` may be missing, the scheme name is
 * case-insensitive, extra keys are ignored); a missing token, a `p=` channel binding
 * request, or CR/LF/NUL anywhere is an error. Reasons never contain the token.
 * @module
 */

import { isUnsafeCredential } from "./safe_credentials.ts";

/** What an OAuth SASL response carries. Strings are binary strings. */
export interface OAuthResponse {
  /** The authorization identity (`a=` / `user=`); empty when the client sent none. */
  authzid: string;
  /** The bearer token. */
  token: string;
}

/** A decoded response, or a reason for the log (never the token). */
export type OAuthDecoded = { ok: true; value: OAuthResponse } | { ok: false; reason: string };

const SEP = "\x01";

/** Decodes an OAUTHBEARER client response (already base64-decoded). */
export function decodeOAuthBearer(message: string): OAuthDecoded {
  if (isUnsafeCredential(message)) return fail("client sent CR, LF or NUL in AUTH OAUTHBEARER response");
  const sep = message.indexOf(SEP);
  if (sep < 0) return fail("client sent invalid AUTH OAUTHBEARER response");
  const gs2 = message.slice(0, sep);
  const parts = gs2.split(",");
  // gs2-cb-flag: "n" or "y"; "p=..." asks for channel binding, which OAUTHBEARER over
  // this proxy cannot offer.
  if (parts.length < 2 || (parts[0] !== "n" && parts[0] !== "y")) {
    return fail("client sent invalid GS2 header in AUTH OAUTHBEARER response");
  }
  let authzid = "";
  const a = parts[1];
  if (a.startsWith("a=")) {
    const unescaped = unescapeSaslname(a.slice(2));
    if (unescaped === null) return fail("client sent invalid authzid in AUTH OAUTHBEARER response");
    authzid = unescaped;
  } else if (a !== "") {
    return fail("client sent invalid GS2 header in AUTH OAUTHBEARER response");
  }
  const token = bearerToken(message.slice(sep + 1).split(SEP));
  if (token === null) return fail("client sent no bearer token in AUTH OAUTHBEARER response");
  return { ok: true, value: { authzid, token } };
}

/** Decodes an XOAUTH2 client response (already base64-decoded). */
export function decodeXOAuth2(message: string): OAuthDecoded {
  if (isUnsafeCredential(message)) return fail("client sent CR, LF or NUL in AUTH XOAUTH2 response");
  const fields = message.split(SEP);
  let authzid: string | null = null;
  for (const field of fields) {
    if (field.startsWith("user=")) {
      authzid = field.slice(5);
      break;
    }
  }
  if (authzid === null) return fail("client sent no user in AUTH XOAUTH2 response");
  const token = bearerToken(fields);
  if (token === null) return fail("client sent no bearer token in AUTH XOAUTH2 response");
  return { ok: true, value: { authzid, token } };
}

/** Encodes an OAUTHBEARER client response (not base64-encoded), for backend logins. */
export function encodeOAuthBearer(authzid: string, token: string): string {
  const a = authzid === "" ? "" : "a=" + authzid.replace(/=/g, "=3D").replace(/,/g, "=2C");
  return `n,${a},${SEP}auth=Bearer ${token}${SEP}${SEP}`;
}

/** Encodes an XOAUTH2 client response (not base64-encoded), for backend logins. */
export function encodeXOAuth2(user: string, token: string): string {
  return `user=${user}${SEP}auth=Bearer ${token}${SEP}${SEP}`;
}

/** The token of the first `auth=` field (`Bearer` case-insensitive, spaces tolerated). */
function bearerToken(fields: readonly string[]): string | null {
  for (const field of fields) {
    if (!field.startsWith("auth=")) continue;
    const match = /^auth=[Bb][Ee][Aa][Rr][Ee][Rr] +(\S+) *$/.exec(field);
    return match === null ? null : match[1];
  }
  return null;
}

/** RFC 5801 saslname: `=2C` → `,`, `=3D` → `=`; any other `=` is an error. */
function unescapeSaslname(text: string): string | null {
  if (/=(?!2C|3D)/i.test(text)) return null;
  return text.replace(/=2C/gi, ",").replace(/=3D/gi, "=");
}

function fail(reason: string): OAuthDecoded {
  return { ok: false, reason };
}
