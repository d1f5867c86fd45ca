/**
 * The POP3 CAPA reply and the `AUTH` mechanism list (spec §4.1.4), built like
 * nginx's `ngx_mail_pop3_merge_srv_conf`: the `pop3_capabilities` lines, a `SASL`
 * line with the enabled mechanisms in a fixed order (always present, even bare), and
 * the STLS variants for `starttls on` / `only` before TLS.
 * @module
 */

import type { ServerConfig } from "../../config/mod.ts";
import { enabledNames } from "../common/pre_auth.ts";

/** `pop3_auth` method → SASL mechanisms, in nginx's fixed order; APOP is never listed. */
const MECHANISMS: readonly (readonly [string, string])[] = [
  ["plain", "PLAIN"],
  ["plain", "LOGIN"],
  ["cram-md5", "CRAM-MD5"],
  ["external", "EXTERNAL"],
  ["oauthbearer", "OAUTHBEARER"],
  ["xoauth2", "XOAUTH2"],
];

const CAPA_HEAD = "+OK Capability list follows\r\n";
const END = ".\r\n";

/** The SASL mechanisms enabled by `pop3_auth` (`plain` enables PLAIN and LOGIN). */
export function pop3SaslMechanisms(pop3Auth: readonly string[]): string[] {
  return enabledNames(MECHANISMS, pop3Auth);
}

/**
 * The CAPA reply. `offerStls`: the session may still upgrade (not yet TLS, start
 * state): `starttls on` adds STLS, `starttls only` shows only the non-USER
 * capabilities and STLS. Otherwise (or after TLS, or in the USER state) the plain list.
 */
export function pop3CapaReply(
  config: Pick<ServerConfig, "pop3_capabilities" | "pop3_auth" | "starttls">,
  offerStls: boolean,
): string {
  const caps = config.pop3_capabilities;
  if (offerStls && config.starttls === "only") {
    return CAPA_HEAD + lines(caps.filter((c) => c.toUpperCase() !== "USER")) + "STLS\r\n" + END;
  }
  const sasl = ["SASL", ...pop3SaslMechanisms(config.pop3_auth)].join(" ") + "\r\n";
  const stls = offerStls && config.starttls === "on" ? "STLS\r\n" : "";
  return CAPA_HEAD + lines(caps) + sasl + stls + END;
}

/** The reply to `AUTH` without arguments: one enabled mechanism per line. */
export function pop3AuthMethodsReply(config: Pick<ServerConfig, "pop3_auth">): string {
  return "+OK methods supported:\r\n" + lines(pop3SaslMechanisms(config.pop3_auth)) + END;
}

function lines(items: readonly string[]): string {
  return items.map((item) => item + "\r\n").join("");
}
