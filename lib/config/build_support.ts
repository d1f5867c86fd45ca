/**
 * Settings valid for nginx but needing a feature this build does not have yet are
 * errors, never silently ignored (see lib/features.ts).
 * @module
 */

import { SUPPORTED_PROTOCOLS } from "../features.ts";
import { clientTlsProblems } from "./tls_support.ts";
import type { Config, ServerConfig } from "./types.ts";

/** Methods whose digest needs the plaintext password on the verifying side, per protocol key. */
const CHALLENGE_RESPONSE = {
  imap: ["imap_auth", ["cram-md5"]],
  pop3: ["pop3_auth", ["apop", "cram-md5"]],
  smtp: ["smtp_auth", ["cram-md5"]],
  sieve: ["sieve_auth", ["cram-md5"]],
} as const;

/** One line per setting this build cannot serve, in the loader's `file:line: …` form. */
export function unsupportedByBuild(config: Config, file: string): string[] {
  const errors: string[] = [];
  for (const s of config.servers) {
    const where = `${file}:${s.line}: [[server]] #${s.index + 1}`;
    if (!SUPPORTED_PROTOCOLS.includes(s.protocol)) {
      errors.push(`${where}: protocol ${s.protocol} is not implemented in this version of mailproxy`);
    }
    errors.push(...staticChallengeResponse(s).map((e) => `${where}: ${e}`));
    errors.push(...staticOAuth(s).map((e) => `${where}: ${e}`));
    errors.push(...clientTlsProblems(s).map((e) => `${where}: ${e}`));
  }
  return errors;
}

/**
 * `auth = "static"` keeps only scrypt hashes, which cannot verify APOP or CRAM-MD5
 * digests: the static provider would refuse every such login, so advertising the
 * method is a configuration error, not a runtime surprise.
 */
function staticChallengeResponse(s: ServerConfig): string[] {
  if (s.auth !== "static") return [];
  const [key, methods] = CHALLENGE_RESPONSE[s.protocol];
  const enabled: readonly string[] = s[key];
  return methods.filter((m) => enabled.includes(m)).map((m) =>
    `${key} includes "${m}", which cannot work with auth = "static": stored password hashes cannot ` +
    `verify ${m === "apop" ? "APOP" : "CRAM-MD5"} digests (use auth_http, or remove "${m}")`
  );
}

/** `*_auth` key per protocol, for the OAuth check. */
const AUTH_KEY = { imap: "imap_auth", pop3: "pop3_auth", smtp: "smtp_auth", sieve: "sieve_auth" } as const;

/**
 * `auth = "static"` has no way to verify a bearer token (no local token verification in
 * this build): every OAuth login would be refused, so advertising it is a configuration error.
 */
function staticOAuth(s: ServerConfig): string[] {
  if (s.auth !== "static") return [];
  const key = AUTH_KEY[s.protocol];
  const enabled: readonly string[] = s[key];
  return ["oauthbearer", "xoauth2"].filter((m) => enabled.includes(m)).map((m) =>
    `${key} includes "${m}", which cannot work with auth = "static": static users have passwords, ` +
    `not bearer tokens (use auth_http, or remove "${m}")`
  );
}
