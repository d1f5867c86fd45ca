/**
 * The IMAP CAPABILITY line (spec §4.2.4), built like nginx's
 * `ngx_mail_imap_merge_conf`: base tokens, then the enabled `AUTH=` tokens in a fixed
 * order, then STARTTLS / LOGINDISABLED depending on `starttls` and the TLS state.
 * @module
 */

import type { ServerConfig } from "../../config/mod.ts";
import { authMethodEnabled, enabledNames } from "../common/pre_auth.ts";

/** `imap_auth` method → advertised token, in nginx's fixed order. */
const AUTH_TOKENS: readonly (readonly [string, string])[] = [
  ["plain", "AUTH=PLAIN"],
  ["login", "AUTH=LOGIN"],
  ["cram-md5", "AUTH=CRAM-MD5"],
  ["external", "AUTH=EXTERNAL"],
  ["oauthbearer", "AUTH=OAUTHBEARER"],
  ["xoauth2", "AUTH=XOAUTH2"],
];

/** True when `method` (case-insensitive) is listed in `imap_auth`. */
export function imapAuthEnabled(imapAuth: readonly string[], method: string): boolean {
  return authMethodEnabled(imapAuth, method);
}

/** The `AUTH=` tokens enabled by `imap_auth`, in nginx's order (`login` enables AUTH=LOGIN). */
export function imapAuthTokens(imapAuth: readonly string[]): string[] {
  return enabledNames(AUTH_TOKENS, imapAuth);
}

/**
 * The untagged `* CAPABILITY ...\r\n` line for a session; `secure` = the connection
 * already uses TLS (implicit or after STARTTLS).
 */
export function imapCapabilityLine(
  config: Pick<ServerConfig, "imap_capabilities" | "imap_auth" | "starttls">,
  secure: boolean,
): string {
  const caps = config.imap_capabilities;
  if (!secure && config.starttls === "only") {
    return ["* CAPABILITY", ...caps, "STARTTLS LOGINDISABLED"].join(" ") + "\r\n";
  }
  const tokens = ["* CAPABILITY", ...caps, ...imapAuthTokens(config.imap_auth)];
  // OAuth clients send the token as an initial response (RFC 4959); the front end always
  // accepts one, but says so only when an OAuth mechanism is on, so configs without them
  // answer exactly like nginx.
  const oauth = imapAuthEnabled(config.imap_auth, "oauthbearer") ||
    imapAuthEnabled(config.imap_auth, "xoauth2");
  if (oauth && !caps.some((c) => c.toUpperCase() === "SASL-IR")) tokens.push("SASL-IR");
  if (!secure && config.starttls === "on") tokens.push("STARTTLS");
  return tokens.join(" ") + "\r\n";
}
