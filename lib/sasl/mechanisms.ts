/**
 * A sans-I/O SASL exchange shared by IMAP AUTHENTICATE, POP3 AUTH and SMTP AUTH
 * (spec §4.0.6): mechanism name and initial arguments in; credentials, a base64
 * challenge (the protocol adds its own prefix, `+ ` or `334 `) or an error out.
 *
 * Mechanisms: PLAIN and LOGIN (always accepted), CRAM-MD5 and EXTERNAL (only when
 * enabled). Names are case-insensitive; anything else is an error. Every error maps
 * to the protocol's invalid-command reply and does not count toward `max_errors`.
 *
 * Deliberate divergences from nginx:
 * - Decoded logins and passwords containing CR, LF or NUL are refused
 *   (see `safe_credentials.ts`).
 * - EXTERNAL must be enabled even when it comes with an initial response; nginx checks
 *   `*_auth` only for the bare form, so `AUTHENTICATE EXTERNAL <b64>` worked anyway.
 * - Each exchange starts with empty credentials: nothing (such as the password of an
 *   earlier failed attempt) carries over into an EXTERNAL login (spec §6.3).
 * @module
 */

import type { Credentials } from "../types.ts";
import { decodeBase64Lenient, encodeBase64 } from "./base64.ts";
import { isUnsafeCredential } from "./safe_credentials.ts";
import { decodeOAuthBearer, decodeXOAuth2 } from "./oauth.ts";

/** base64("Username:"), the LOGIN and EXTERNAL username prompt. */
export const USERNAME_CHALLENGE = "VXNlcm5hbWU6";
/** base64("Password:"), the LOGIN password prompt. */
export const PASSWORD_CHALLENGE = "UGFzc3dvcmQ6";

/** Which response an unfinished exchange waits for. */
export type SaslStage =
  | "plain"
  | "login-username"
  | "login-password"
  | "cram-md5"
  | "external"
  | "oauthbearer"
  | "xoauth2";

/** What the protocol's `*_auth` setting allows, and where the salt comes from. */
export interface SaslPolicy {
  /** `cram-md5` is listed in `*_auth`. */
  cramMd5: boolean;
  /** `external` is listed in `*_auth`. */
  external: boolean;
  /** `oauthbearer` is listed in `*_auth`. */
  oauthbearer?: boolean;
  /** `xoauth2` is listed in `*_auth`. */
  xoauth2?: boolean;
  /**
   * The session salt without CRLF. Called only when a CRAM-MD5 exchange starts; the
   * caller creates it on the first call and returns the same value afterwards.
   */
  salt(): string;
}

/** The result of starting an exchange or of one response line. */
export type SaslOutcome =
  /** Complete: ask the auth provider. */
  | { kind: "credentials"; credentials: Credentials }
  /** Send `challenge` (base64, may be empty) with the protocol's prefix; feed the next line to `exchange`. */
  | { kind: "challenge"; challenge: string; exchange: SaslExchange }
  /** Send the invalid-command reply; `reason` is for the log (no secrets). */
  | { kind: "error"; reason: string };

/**
 * Starts an exchange. `args` are the command's arguments after the mechanism name
 * (at most one, the initial response) as binary strings.
 */
export function startSasl(mechanism: string, args: readonly string[], policy: SaslPolicy): SaslOutcome {
  switch (asciiUpper(mechanism)) {
    case "PLAIN":
      if (args.length === 0) return challenge(new SaslExchange("plain"), "");
      if (args.length === 1) return decodePlain(args[0]);
      return error("too many arguments in AUTH PLAIN command");
    case "LOGIN":
      if (args.length === 0) return challenge(new SaslExchange("login-username"), USERNAME_CHALLENGE);
      if (args.length === 1) return new SaslExchange("login-username").respond(args[0]);
      return error("too many arguments in AUTH LOGIN command");
    case "CRAM-MD5": {
      if (args.length !== 0) return error("unexpected argument in AUTH CRAM-MD5 command");
      if (!policy.cramMd5) return error("AUTH CRAM-MD5 is not enabled");
      const salt = policy.salt();
      return challenge(new SaslExchange("cram-md5", salt), encodeBase64(salt));
    }
    case "EXTERNAL":
      if (!policy.external) return error("AUTH EXTERNAL is not enabled");
      if (args.length === 0) return challenge(new SaslExchange("external"), USERNAME_CHALLENGE);
      if (args.length === 1) return decodeExternal(args[0]);
      return error("too many arguments in AUTH EXTERNAL command");
    case "OAUTHBEARER":
    case "XOAUTH2": {
      const stage = asciiUpper(mechanism) === "OAUTHBEARER" ? "oauthbearer" : "xoauth2";
      if (!policy[stage]) return error(`AUTH ${stage.toUpperCase()} is not enabled`);
      // Without an initial response the client sends it after an empty challenge.
      if (args.length === 0) return challenge(new SaslExchange(stage), "");
      if (args.length === 1) return decodeOAuth(stage, args[0]);
      return error(`too many arguments in AUTH ${stage.toUpperCase()} command`);
    }
    default:
      return error("unsupported AUTH mechanism");
  }
}

/** An unfinished exchange, created by {@link startSasl}; takes one response line at a time. */
export class SaslExchange {
  #stage: SaslStage;
  #finished = false;
  #login: string | undefined;
  readonly #salt: string | undefined;

  /** Use {@link startSasl}; the constructor is for this module. */
  constructor(stage: SaslStage, salt?: string) {
    this.#stage = stage;
    this.#salt = salt;
  }

  /** The response this exchange waits for. */
  get stage(): SaslStage {
    return this.#stage;
  }

  /** The LOGIN user name once it was given (binary string), for logs. */
  get login(): string | undefined {
    return this.#login;
  }

  /** Takes the client's response (the base64 token, binary string). An exchange ends at its first non-challenge outcome. */
  respond(response: string): SaslOutcome {
    if (this.#finished) return error("SASL exchange already finished");
    const outcome = this.#respond(response);
    if (outcome.kind !== "challenge") this.#finished = true;
    return outcome;
  }

  #respond(response: string): SaslOutcome {
    switch (this.#stage) {
      case "plain":
        return decodePlain(response);
      case "login-username": {
        const login = decodeBase64Lenient(response);
        if (login === null) return error("client sent invalid base64 encoding in AUTH LOGIN command");
        if (isUnsafeCredential(login)) {
          return error("client sent CR, LF or NUL in login of AUTH LOGIN command");
        }
        this.#login = login;
        this.#stage = "login-password";
        return challenge(this, PASSWORD_CHALLENGE);
      }
      case "login-password": {
        const pass = decodeBase64Lenient(response);
        if (pass === null) return error("client sent invalid base64 encoding in AUTH LOGIN command");
        if (isUnsafeCredential(pass)) {
          return error("client sent CR, LF or NUL in password of AUTH LOGIN command");
        }
        return credentials({ method: "plain", user: this.#login ?? "", pass });
      }
      case "cram-md5":
        return decodeCramMd5(response, this.#salt ?? "");
      case "external":
        return decodeExternal(response);
      case "oauthbearer":
      case "xoauth2":
        return decodeOAuth(this.#stage, response);
    }
  }
}

/** `authzid NUL authcid NUL password`; the authzid is ignored like nginx does. */
function decodePlain(token: string): SaslOutcome {
  const plain = decodeBase64Lenient(token);
  if (plain === null) return error("client sent invalid base64 encoding in AUTH PLAIN command");
  const first = plain.indexOf("\0");
  if (first < 0) return error("client sent invalid login in AUTH PLAIN command");
  const second = plain.indexOf("\0", first + 1);
  if (second < 0) return error("client sent invalid password in AUTH PLAIN command");
  const user = plain.slice(first + 1, second);
  const pass = plain.slice(second + 1);
  if (isUnsafeCredential(user) || isUnsafeCredential(pass)) {
    return error("client sent CR, LF or NUL in credentials of AUTH PLAIN command");
  }
  return credentials({ method: "plain", user, pass });
}

/** `login SP digest`, the digest being exactly 32 bytes (not checked for hex, like nginx). */
function decodeCramMd5(token: string, salt: string): SaslOutcome {
  const decoded = decodeBase64Lenient(token);
  if (decoded === null) return error("client sent invalid base64 encoding in AUTH CRAM-MD5 command");
  const space = decoded.indexOf(" ");
  const digest = space < 0 ? "" : decoded.slice(space + 1);
  if (digest.length !== 32) return error("client sent invalid CRAM-MD5 hash in AUTH CRAM-MD5 command");
  const user = decoded.slice(0, space);
  if (isUnsafeCredential(user) || isUnsafeCredential(digest)) {
    return error("client sent CR, LF or NUL in credentials of AUTH CRAM-MD5 command");
  }
  return credentials({ method: "cram-md5", user, pass: digest, salt });
}

/** The base64 login; EXTERNAL has no password. */
function decodeExternal(token: string): SaslOutcome {
  const user = decodeBase64Lenient(token);
  if (user === null) return error("client sent invalid base64 encoding in AUTH EXTERNAL command");
  if (isUnsafeCredential(user)) return error("client sent CR, LF or NUL in login of AUTH EXTERNAL command");
  return credentials({ method: "external", user, pass: "" });
}

/** An OAUTHBEARER or XOAUTH2 response: the authzid as the user, the token as the password. */
function decodeOAuth(method: "oauthbearer" | "xoauth2", token: string): SaslOutcome {
  const name = method.toUpperCase();
  const message = decodeBase64Lenient(token);
  if (message === null) return error(`client sent invalid base64 encoding in AUTH ${name} command`);
  const decoded = method === "oauthbearer" ? decodeOAuthBearer(message) : decodeXOAuth2(message);
  if (!decoded.ok) return error(decoded.reason);
  return credentials({ method, user: decoded.value.authzid, pass: decoded.value.token });
}

function challenge(exchange: SaslExchange, text: string): SaslOutcome {
  return { kind: "challenge", challenge: text, exchange };
}

function credentials(value: Credentials): SaslOutcome {
  return { kind: "credentials", credentials: value };
}

function error(reason: string): SaslOutcome {
  return { kind: "error", reason };
}

/** Upper-cases ASCII letters only, so no non-ASCII byte can turn into a mechanism name. */
function asciiUpper(text: string): string {
  return text.replace(/[a-z]+/g, (s) => s.toUpperCase());
}
