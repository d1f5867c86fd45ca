/**
 * Logs in to the IMAP backend on the user's behalf (spec §5.1, §5.3): wait for the
 * `* OK` greeting, then `<tag>LOGIN` with the login and password as literals, and
 * relay the backend's tagged `OK` (plus at most one untagged line before it) to the
 * client. The client's tag is reused so the reply matches the client's command.
 *
 * Reply rules as in nginx's `ngx_mail_proxy_read_response`: a reply is judged only
 * when the buffered bytes are at least 4 and end with CRLF; more than `proxy_buffer`
 * bytes without that is "too long"; bytes beyond the expected reply are dropped when
 * the next line is sent.
 *
 * Divergence from nginx, asked for by the issue tracker (fewer round trips): when the
 * greeting's `[CAPABILITY ...]` code lists LITERAL+ (or LITERAL- and both values are
 * at most 4096 bytes, RFC 7888), the whole LOGIN goes out in one write with
 * non-synchronising literals; otherwise synchronising literals are used like nginx.
 * @module
 */

import type { AuthOk } from "../../auth/types.ts";
import type { ServerConfig } from "../../config/types.ts";
import { binaryForDisplay, concat, fromBinary, toBinary } from "../../util/bytes.ts";
import type { BackendLogin, BackendStep, Credentials } from "../types.ts";

const INTERNAL_ERROR = "* BAD internal server error\r\n";
/** RFC 7888: LITERAL- allows non-synchronising literals up to this many bytes. */
const LITERAL_MINUS_MAX = 4096;
/** How much of a bad reply goes into the log line. */
const LOG_EXCERPT = 200;

const CR = 0x0d;
const LF = 0x0a;

/** What the next backend reply answers. */
type State = "greeting" | "login" | "user" | "password" | "done";

const WHAT: Record<State, string> = {
  greeting: "greeting",
  login: "LOGIN command",
  user: "user name",
  password: "password",
  done: "login",
};

/** One backend login dialogue, created by the IMAP front end. */
export class ImapBackendLogin implements BackendLogin {
  readonly #bufferSize: number;
  readonly #passError: boolean;
  readonly #tag: string;
  readonly #user: string;
  readonly #pass: string;
  #state: State = "greeting";
  #buf: Uint8Array = new Uint8Array(0);

  /**
   * `tag`: the client's tag with its trailing space (`"a01 "`); `ok.user` / `ok.pass`
   * (Auth-User / Auth-Pass) replace the client's login and password.
   */
  constructor(
    config: Pick<ServerConfig, "proxy_buffer" | "proxy_pass_error_message">,
    ok: AuthOk,
    credentials: Credentials,
    tag: string,
  ) {
    this.#bufferSize = Math.max(1, config.proxy_buffer);
    this.#passError = config.proxy_pass_error_message;
    this.#tag = tag;
    this.#user = ok.user ?? credentials.user;
    this.#pass = ok.pass ?? credentials.pass;
  }

  receive(data: Uint8Array): BackendStep | null {
    if (this.#state === "done") return null;
    if (data.length > 0) this.#buf = concat([this.#buf, data]);

    // nginx never reads more than proxy_buffer bytes for one reply; the rest stays
    // queued as the start of whatever comes next.
    const size = this.#bufferSize;
    const reply = this.#buf.length > size ? this.#buf.subarray(0, size) : this.#buf;
    const n = reply.length;
    if (n < 4 && n < size) return null;
    if (reply[n - 2] !== CR || reply[n - 1] !== LF) {
      if (n < size) return null;
      return this.#fail(INTERNAL_ERROR, `upstream sent too long response line: "${excerpt(reply)}"`);
    }

    switch (this.#state) {
      case "greeting":
        if (!startsWith(reply, 0, "* OK")) return this.#invalid(reply);
        return this.#sendLogin(greetingCapabilities(reply));
      case "login":
      case "user":
        if (reply[0] !== 0x2b /* + */) return this.#invalid(reply);
        if (this.#state === "login") return this.#send(`${this.#user} {${this.#pass.length}}\r\n`, "user");
        return this.#send(`${this.#pass}\r\n`, "password");
      case "password": {
        const verdict = taggedOk(reply, this.#tag);
        if (verdict === "again") return null;
        if (verdict === "invalid") return this.#invalid(reply);
        // Everything the backend sent goes to the client, as nginx relays its buffer.
        const toClient = this.#buf;
        this.#buf = new Uint8Array(0);
        this.#state = "done";
        return { kind: "done", toClient };
      }
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

  #send(line: string, next: State): BackendStep {
    // The reply just judged and anything after it within the buffer is dropped.
    this.#buf = this.#buf.length > this.#bufferSize ? this.#buf.slice(this.#bufferSize) : new Uint8Array(0);
    this.#state = next;
    return { kind: "send", data: fromBinary(line) };
  }

  #invalid(reply: Uint8Array): BackendStep {
    const log = `upstream sent invalid response to ${WHAT[this.#state]}: "${excerpt(reply)}"`;
    return this.#fail(this.#passError ? reply.slice() : INTERNAL_ERROR, log);
  }

  #fail(toClient: Uint8Array | string, log: string): BackendStep {
    this.#state = "done";
    this.#buf = new Uint8Array(0);
    const data = typeof toClient === "string" ? fromBinary(toClient) : toClient;
    return { kind: "fail", toClient: data, log: this.#scrub(log) };
  }

  /** Log lines never carry the password, even if a backend echoes it. */
  #scrub(text: string): string {
    const pass = binaryForDisplay(this.#pass);
    return pass.length > 0 ? text.split(pass).join("***") : text;
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
  return startsWith(reply, p, tag) && startsWith(reply, p + tag.length, "OK") ? "ok" : "invalid";
}

/** Upper-cased tokens of a `[CAPABILITY ...]` response code in the greeting's first line. */
function greetingCapabilities(reply: Uint8Array): Set<string> {
  const end = reply.indexOf(LF);
  const line = toBinary(reply.subarray(0, end < 0 ? reply.length : end)).toUpperCase();
  const match = /\[CAPABILITY ([^\]]*)\]/.exec(line);
  return new Set(match ? match[1].split(" ").filter((t) => t !== "") : []);
}

function startsWith(bytes: Uint8Array, at: number, text: string): boolean {
  if (at + text.length > bytes.length) return false;
  for (let i = 0; i < text.length; i++) {
    if (bytes[at + i] !== text.charCodeAt(i)) return false;
  }
  return true;
}

/** The first line of a reply, readable and bounded, for the log. */
function excerpt(reply: Uint8Array): string {
  let end = reply.indexOf(CR);
  if (end < 0 || end > LOG_EXCERPT) end = Math.min(reply.length, LOG_EXCERPT);
  const text = binaryForDisplay(toBinary(reply.subarray(0, end)));
  return end < reply.length && reply[end] !== CR ? text + "..." : text;
}
