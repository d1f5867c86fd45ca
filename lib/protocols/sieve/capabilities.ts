/**
 * The ManageSieve capability list (RFC 5804 §1.7), the greeting and the reply to
 * CAPABILITY before login: `"IMPLEMENTATION"`, `"SASL"` (the mechanisms of
 * `sieve_auth`, empty while `starttls only` forbids logging in), `"SIEVE"`
 * (`sieve_capabilities`), `"NOTIFY" "mailto"` with the enotify extension, `"STARTTLS"`
 * while it may be used, `"VERSION" "1.0"`.
 * After login the client's CAPABILITY goes to the backend, which names its own.
 * @module
 */

import type { ServerConfig } from "../../config/mod.ts";
import { enabledNames } from "../common/pre_auth.ts";
import { quoted } from "./parser.ts";

/** `sieve_auth` method → advertised SASL name, in a fixed order. */
const MECHANISMS: readonly (readonly [string, string])[] = [
  ["plain", "PLAIN"],
  ["login", "LOGIN"],
  ["cram-md5", "CRAM-MD5"],
  ["external", "EXTERNAL"],
];

/** What the implementation is called (no version: nothing to fingerprint). */
export const IMPLEMENTATION = "mailproxy";

/** The SASL mechanisms enabled by `sieve_auth`, in a fixed order. */
export function sieveMechanisms(sieveAuth: readonly string[]): string[] {
  return enabledNames(MECHANISMS, sieveAuth);
}

/**
 * The capability lines of a session (each with CRLF, without the final `OK`);
 * `secure` = the connection already uses TLS.
 */
export function sieveCapabilityLines(
  config: Pick<ServerConfig, "sieve_auth" | "sieve_capabilities" | "starttls">,
  secure: boolean,
): string {
  const loginDisabled = !secure && config.starttls === "only";
  const sasl = loginDisabled ? "" : sieveMechanisms(config.sieve_auth).join(" ");
  const lines = [
    `"IMPLEMENTATION" ${quoted(IMPLEMENTATION)}`,
    `"SASL" ${quoted(sasl)}`,
    `"SIEVE" ${quoted(config.sieve_capabilities.join(" "))}`,
  ];
  // RFC 5804 §1.7: a server with the enotify extension names its notification methods.
  if (config.sieve_capabilities.some((c) => c.toLowerCase() === "enotify")) lines.push('"NOTIFY" "mailto"');
  if (!secure && config.starttls !== "off") lines.push('"STARTTLS"');
  lines.push('"VERSION" "1.0"');
  return lines.map((l) => l + "\r\n").join("");
}
