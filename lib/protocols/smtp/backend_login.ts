/**
 * The SMTP backend dialogue (spec §5.4), as nginx's `ngx_mail_proxy_smtp_handler`:
 *
 * 1. greeting [220];
 * 2. `EHLO <server_name>` (HELO when the client never said EHLO and `xclient` is off) [250];
 * 3. with `xclient`: `XCLIENT ADDR=… [LOGIN=…] NAME=…` [220 or 250], then the client's own
 *    HELO/EHLO replayed if it sent one [250];
 * 4. `smtp_auth none`: the stored MAIL line [250], then the RCPT line [any reply], whose
 *    reply is what the client gets; with `proxy_smtp_auth`: `AUTH PLAIN …` [235];
 * 5. otherwise the client gets `235 2.0.0 OK`.
 *
 * Replies are read by nginx's rules (`../common/backend_replies.ts`); a multi-line
 * reply (`250-…`) is judged once its last line has arrived. A reply with another code
 * fails the login: the internal error line goes to the client, or with
 * `proxy_pass_error_message` the backend's own text.
 * @module
 */

import type { AuthOk } from "../../auth/mod.ts";
import type { ServerConfig } from "../../config/mod.ts";
import { encodeBase64 } from "../../sasl/mod.ts";
import { fromBinary } from "../../util/bytes.ts";
import { type BackendReplies, startsWithText } from "../common/backend_replies.ts";
import { backendReplies } from "../common/backend_credentials.ts";
import type { BackendLogin, BackendStep } from "../types.ts";
import type { Credentials } from "../../types.ts";
import { xclientLine } from "./xclient.ts";

import { SMTP_INTERNAL_ERROR } from "./lines.ts";

const AUTH_OK = "235 2.0.0 OK\r\n";
const CR = 0x0d;
const LF = 0x0a;
const DASH = 0x2d;

/** What the front end learned from the client that the backend dialogue replays. */
export interface SmtpSessionFacts {
  /** The client said EHLO at some point (nginx's `esmtp` flag). */
  esmtp: boolean;
  /** The client's last HELO/EHLO argument, "" if none. */
  helo: string;
  /** Client-IP text. */
  clientIp: string;
  /** The resolver's result (or `[UNAVAILABLE]`). */
  clientHost: string;
}

/** Which codes a step accepts: a code prefix list, or any reply. */
type Expect = readonly string[] | "any";

/** One command of the dialogue; `line` is built when it is due (the AUTH line may fail). */
interface Step {
  what: string;
  line: () => string | { fail: string };
  expect: Expect;
}

/** One backend login dialogue, created by the SMTP front end. */
export class SmtpBackendLogin implements BackendLogin {
  readonly #replies: BackendReplies;
  readonly #bufferSize: number;
  readonly #none: boolean;
  readonly #steps: Step[] = [];
  /** What the reply being awaited answers, and which codes it may carry. */
  #awaiting: { what: string; expect: Expect } = { what: "greeting", expect: ["220"] };

  constructor(
    config: Pick<
      ServerConfig,
      "server_name" | "xclient" | "proxy_smtp_auth" | "proxy_buffer" | "proxy_pass_error_message"
    >,
    ok: AuthOk,
    credentials: Credentials,
    facts: SmtpSessionFacts,
  ) {
    this.#none = credentials.method === "none";
    const login = ok.user ?? credentials.user;
    // nginx forgets the client's digest once Auth-Salt is sent, and EXTERNAL has none.
    const pass = ok.pass ?? (credentials.method === "plain" ? credentials.pass : undefined);
    const auth = pass === undefined ? undefined : encodeBase64(`\0${login}\0${pass}`);
    this.#bufferSize = Math.max(1, config.proxy_buffer);
    this.#replies = backendReplies(config, SMTP_INTERNAL_ERROR, pass ?? "");

    const ehlo = facts.esmtp || config.xclient ? "EHLO" : "HELO";
    this.#steps.push({
      what: `${ehlo} ${config.server_name}`,
      line: () => `${ehlo} ${config.server_name}\r\n`,
      expect: ["250"],
    });
    if (config.xclient) {
      // LOGIN= is left out under proxy_smtp_auth: the backend authenticates the user itself.
      const xclient = xclientLine(facts.clientIp, config.proxy_smtp_auth ? "" : login, facts.clientHost);
      this.#steps.push({ what: "XCLIENT", line: () => xclient, expect: ["220", "250"] });
      if (facts.helo !== "") {
        const verb = facts.esmtp ? "EHLO" : "HELO";
        this.#steps.push({
          what: `client ${verb}`,
          line: () => `${verb} ${facts.helo}\r\n`,
          expect: ["250"],
        });
      }
    }
    if (this.#none) {
      const smtp = credentials.smtp ?? { helo: "", from: "", to: "" };
      this.#steps.push({ what: "MAIL", line: () => `${smtp.from}\r\n`, expect: ["250"] });
      this.#steps.push({ what: "RCPT", line: () => `${smtp.to}\r\n`, expect: "any" });
    } else if (config.proxy_smtp_auth) {
      this.#steps.push({
        what: "AUTH PLAIN",
        line: () => auth === undefined ? { fail: "no password available" } : `AUTH PLAIN ${auth}\r\n`,
        expect: ["235"],
      });
    }
  }

  receive(data: Uint8Array): BackendStep | null {
    const reply = this.#replies.read(data);
    if (!(reply instanceof Uint8Array)) return reply;
    if (reply[3] === DASH && !lastLineComplete(reply)) {
      if (reply.length < this.#bufferSize) return null;
      return this.#replies.fail(SMTP_INTERNAL_ERROR, "upstream sent too long multi-line response");
    }
    const { what, expect } = this.#awaiting;
    if (expect !== "any" && !expect.some((code) => startsWithText(reply, 0, code))) {
      return this.#replies.invalid(reply, what);
    }
    const step = this.#steps.shift();
    if (step === undefined) {
      const done = this.#replies.done();
      // Under `none` the client hears the backend's answer to its RCPT; otherwise nginx's own.
      return this.#none ? done : { kind: "done", toClient: fromBinary(AUTH_OK) };
    }
    const line = step.line();
    if (typeof line !== "string") return this.#replies.fail(SMTP_INTERNAL_ERROR, line.fail);
    this.#awaiting = { what: step.what, expect: step.expect };
    return this.#replies.send(line);
  }

  internalError(): Uint8Array {
    return fromBinary(SMTP_INTERNAL_ERROR);
  }
}

/**
 * The line after the last inner CRLF has anything but `-` after its code. As nginx:
 * start 7 bytes before the end (CRLF "200" CRLF) and search back for CRLF.
 */
function lastLineComplete(reply: Uint8Array): boolean {
  let m = reply.length - 7;
  while (m > 0 && !(reply[m] === CR && reply[m + 1] === LF)) m--;
  return m > 0 && reply[m + 5] !== DASH;
}
