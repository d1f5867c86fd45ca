/**
 * The SMTP greeting and EHLO reply (spec §4.3.2, §4.3.5): `<server_name>`, each
 * `smtp_capabilities` entry, `AUTH` with the enabled mechanisms in nginx's fixed
 * order, and `STARTTLS` while the connection is plain and `starttls` is on or only.
 * @module
 */

import type { ServerConfig } from "../../config/mod.ts";
import { enabledNames } from "../common/pre_auth.ts";

/** `smtp_auth` methods that are SASL mechanisms, in the order nginx lists them. */
const MECHANISMS: readonly [method: string, token: string][] = [
  ["plain", "PLAIN"],
  ["login", "LOGIN"],
  ["cram-md5", "CRAM-MD5"],
  ["external", "EXTERNAL"],
  ["oauthbearer", "OAUTHBEARER"],
  ["xoauth2", "XOAUTH2"],
];

/** `220 <server_name> ESMTP ready\r\n`. */
export function smtpGreeting(config: Pick<ServerConfig, "server_name">): string {
  return `220 ${config.server_name} ESMTP ready\r\n`;
}

/** The EHLO reply for the connection's current TLS state. */
export function smtpEhloReply(
  config: Pick<ServerConfig, "server_name" | "smtp_capabilities" | "smtp_auth" | "starttls">,
  secure: boolean,
): string {
  const lines = [config.server_name, ...config.smtp_capabilities];
  const tokens = enabledNames(MECHANISMS, config.smtp_auth);
  const offerTls = !secure && config.starttls !== "off";
  // `starttls only` hides AUTH until TLS is up, since AUTH would be refused anyway.
  if (tokens.length > 0 && !(offerTls && config.starttls === "only")) lines.push(`AUTH ${tokens.join(" ")}`);
  if (offerTls) lines.push("STARTTLS");
  return lines.map((line, i) => `250${i === lines.length - 1 ? " " : "-"}${line}\r\n`).join("");
}
