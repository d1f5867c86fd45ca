/**
 * Logs in to the IMAP backend on the user's behalf (spec §5.1, §5.3): wait for the
 * `* OK` greeting, then `<tag>LOGIN` with the login and password as literals, and
 * relay the backend's tagged `OK` (plus at most one untagged line before it) to the
 * client. The client's tag is reused so the reply matches the client's command.
 *
 * Replies are read by nginx's rules (`../common/backend_replies.ts`).
 *
 * Divergence from nginx, asked for by the issue tracker (fewer round trips): when the
 * greeting's `[CAPABILITY ...]` code lists LITERAL+ (or LITERAL- and both values are
 * at most 4096 bytes, RFC 7888), the whole LOGIN goes out in one write with
 * non-synchronising literals; otherwise synchronising literals are used like nginx.
 *
 * OAuth logins (`proxy_auth_mech`, `../common/backend_mech.ts`): instead of LOGIN,
 * `AUTHENTICATE OAUTHBEARER|XOAUTH2` with the token, inline when the greeting lists
 * SASL-IR, else after the backend's `+` continuation. The mechanism must be listed as
 * `AUTH=` in the greeting's `[CAPABILITY ...]` (Dovecot sends it); otherwise the login
 * fails with a log line saying so. A backend error challenge gets the dummy response.
 * @module
 */

import type { AuthOk } from "../../auth/mod.ts";
import type { ServerConfig } from "../../config/mod.ts";
import { fromBinary, toBinary } from "../../util/bytes.ts";
import { type BackendReplies, startsWithText } from "../common/backend_replies.ts";
import { backendCredentials, type BackendRepliesConfig } from "../common/backend_credentials.ts";
import type { BackendLogin, BackendStep } from "../types.ts";
import type { Credentials } from "../../types.ts";
import { encodeBase64, encodeOAuthBearer, encodeXOAuth2 } from "../../sasl/mod.ts";
import { type BackendMech, backendMech } from "../common/backend_mech.ts";

import { INTERNAL_ERROR } from "./lines.ts";

/** RFC 7888: LITERAL- allows non-synchronising literals up to this many bytes. */
const LITERAL_MINUS_MAX = 4096;

const CR = 0x0d;
const LF = 0x0a;

/** What the next backend reply answers. */
type State = "greeting" | "login" | "user" | "sasl" | "password" | "done";

const WHAT: Record<State, string> = {
  greeting: "greeting",
  sasl: "AUTHENTICATE command",
  login: "LOGIN command",
  user: "user name",
  password: "password",
  done: "login",
};

/** One backend login dialogue, created by the IMAP front end. */
export class ImapBackendLogin implements BackendLogin {
  readonly #replies: BackendReplies;
  readonly #tag: string;
  readonly #user: string;
  readonly #pass: string;
  readonly #mech: BackendMech;
  /** A backend's OAuth error challenge was answered (only one is). */
  #dummySent = false;
  #state: State = "greeting";

  /**
   * `tag`: the client's tag with its trailing space (`"a01 "`); `ok.user` / `ok.pass`
   * (Auth-User / Auth-Pass) replace the client's login and password.
   */
  constructor(
    config: BackendRepliesConfig & { proxy_auth_mech?: ServerConfig["proxy_auth_mech"] },
    ok: AuthOk,
    credentials: Credentials,
    tag: string,
  ) {
    this.#tag = tag;
    ({ user: this.#user, pass: this.#pass, replies: this.#replies } = backendCredentials(
      config,
      ok,
      credentials,
      INTERNAL_ERROR,
    ));
    this.#mech = backendMech(config.proxy_auth_mech ?? "auto", ok, credentials);
  }

  receive(data: Uint8Array): BackendStep | null {
    const reply = this.#replies.read(data);
    if (!(reply instanceof Uint8Array)) return reply;

    switch (this.#state) {
      case "greeting":
        if (!startsWithText(reply, 0, "* OK")) return this.#invalid(reply);
        return this.#mech === "plain"
          ? this.#sendLogin(greetingCapabilities(reply))
          : this.#sendAuthenticate(greetingCapabilities(reply));
      case "sasl":
        if (reply[0] !== 0x2b /* + */) return this.#invalid(reply);
        return this.#send(`${this.#saslResponse()}\r\n`, "password");
      case "login":
      case "user":
        if (reply[0] !== 0x2b /* + */) return this.#invalid(reply);
        if (this.#state === "login") return this.#send(`${this.#user} {${this.#pass.length}}\r\n`, "user");
        return this.#send(`${this.#pass}\r\n`, "password");
      case "password": {
        if (this.#mech !== "plain" && reply[0] === 0x2b /* + */ && !this.#dummySent) {
          // RFC 7628 §3.2.3: an error challenge; the dummy response gets the tagged NO.
          this.#dummySent = true;
          return this.#send("AQ==\r\n", "password");
        }
        const verdict = taggedOk(reply, this.#tag);
        if (verdict === "again") return null;
        if (verdict === "invalid") return this.#invalid(reply);
        this.#state = "done";
        return this.#replies.done();
      }
      case "done":
        return null;
    }
  }

  internalError(): Uint8Array {
    return fromBinary(INTERNAL_ERROR);
  }

  #sendLogin(capabilities: Set<string>): BackendStep {
    const user = this.#user;
    const pass = this.#pass;
    const nonSync = capabilities.has("LITERAL+") ||
      (capabilities.has("LITERAL-") && user.length <= LITERAL_MINUS_MAX && pass.length <= LITERAL_MINUS_MAX);
    if (nonSync) {
      return this.#send(
        `${this.#tag}LOGIN {${user.length}+}\r\n${user} {${pass.length}+}\r\n${pass}\r\n`,
        "password",
      );
    }
    return this.#send(`${this.#tag}LOGIN {${user.length}}\r\n`, "login");
  }

  #sendAuthenticate(capabilities: Set<string>): BackendStep {
    const name = this.#mech.toUpperCase();
    if (!capabilities.has(`AUTH=${name}`)) {
      this.#state = "done";
      return this.#replies.fail(
        INTERNAL_ERROR,
        `upstream does not advertise AUTH=${name} in its greeting, needed to replay the OAuth login` +
          " (have the auth service send Auth-Pass, or set proxy_auth_mech)",
      );
    }
    if (capabilities.has("SASL-IR")) {
      return this.#send(`${this.#tag}AUTHENTICATE ${name} ${this.#saslResponse()}\r\n`, "password");
    }
    return this.#send(`${this.#tag}AUTHENTICATE ${name}\r\n`, "sasl");
  }

  /** The base64 initial response carrying the token. */
  #saslResponse(): string {
    const message = this.#mech === "xoauth2"
      ? encodeXOAuth2(this.#user, this.#pass)
      : encodeOAuthBearer(this.#user, this.#pass);
    return encodeBase64(message);
  }

  #send(line: string, next: State): BackendStep {
    this.#state = next;
    return this.#replies.send(line);
  }

  #invalid(reply: Uint8Array): BackendStep {
    const what = WHAT[this.#state];
    this.#state = "done";
    return this.#replies.invalid(reply, what);
  }
}

/**
 * Judges the reply to the password: `<tag>OK`, optionally after exactly one untagged
 * `* ` line (nginx 1.27.3+). "again" when only the untagged line is complete so far.
 */
function taggedOk(reply: Uint8Array, tag: string): "ok" | "again" | "invalid" {
  let p = 0;
  if (reply[0] === 0x2a /* * */ && reply[1] === 0x20) {
    p = 2;
    while (p < reply.length - 1 && !(reply[p] === CR && reply[p + 1] === LF)) p++;
    p += 2;
    if (reply.length - p < 4) return "again";
  }
  return startsWithText(reply, p, tag) && startsWithText(reply, p + tag.length, "OK") ? "ok" : "invalid";
}

/** Upper-cased tokens of a `[CAPABILITY ...]` response code in the greeting's first line. */
function greetingCapabilities(reply: Uint8Array): Set<string> {
  const end = reply.indexOf(LF);
  const line = toBinary(reply.subarray(0, end < 0 ? reply.length : end)).toUpperCase();
  const match = /\[CAPABILITY ([^\]]*)\]/.exec(line);
  return new Set(match ? match[1].split(" ").filter((t) => t !== "") : []);
}
