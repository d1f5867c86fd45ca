/**
 * Sans-I/O: what mailproxy says to a backend between its greeting and the login
 * dialogue of `lib/protocols/*\/backend_login.ts`, when there is anything to say:
 * - `backend_tls = "starttls"`: IMAP `STARTTLS`, POP3 `STLS`, SMTP `EHLO` + `STARTTLS`,
 *   then the driver upgrades the connection;
 * - `imap_id = true`: an IMAP `ID` naming the real client (x-originating-ip …), whose
 *   reply is swallowed.
 * The greeting is then replayed to the login machine, which checks it as usual (no new
 * greeting follows STARTTLS).
 * @module
 */

import type { MailProtocol } from "../types.ts";

/** What the driver does next. */
export type PreambleStep =
  | { kind: "send"; data: Uint8Array }
  /** Upgrade the backend connection to TLS, then call {@link BackendPreamble.tlsDone}. */
  | { kind: "starttls" }
  /** Start the login machine and feed it `greeting` first. */
  | { kind: "done"; greeting: Uint8Array }
  | { kind: "fail"; log: string };

/** Options of {@link BackendPreamble}. */
export interface PreambleOptions {
  protocol: MailProtocol;
  starttls: boolean;
  /** SMTP: the EHLO argument (server_name). */
  ehloName: string;
  /** IMAP: the ID command to send (tag `mp1`, see imap/backend_id.ts). */
  imapId?: Uint8Array;
}

const enc = new TextEncoder();
/** Longest reply accepted here; backends' greetings and STARTTLS replies are short. */
const MAX_REPLY = 16 * 1024;

type Phase = "greeting" | "ehlo" | "starttls" | "tls" | "id" | "done";

/** One backend preamble. */
export class BackendPreamble {
  readonly #opts: PreambleOptions;
  #phase: Phase = "greeting";
  #buf = "";
  #greeting = new Uint8Array(0);

  constructor(opts: PreambleOptions) {
    this.#opts = opts;
  }

  /** True when there is nothing to do: the login machine can take the greeting directly. */
  static needed(opts: PreambleOptions): boolean {
    return opts.starttls || (opts.protocol === "imap" && opts.imapId !== undefined);
  }

  /** Feeds backend bytes; null when more are needed. */
  receive(data: Uint8Array): PreambleStep | null {
    if (this.#phase === "greeting") {
      const merged = new Uint8Array(this.#greeting.length + data.length);
      merged.set(this.#greeting);
      merged.set(data, this.#greeting.length);
      this.#greeting = merged;
    }
    for (const b of data) this.#buf += String.fromCharCode(b);
    if (this.#buf.length > MAX_REPLY) return { kind: "fail", log: "backend sent too long a reply" };
    const reply = this.#takeReply();
    if (reply === null) return null;
    return this.#advance(reply);
  }

  /** The TLS handshake with the backend finished. */
  tlsDone(): PreambleStep {
    this.#buf = "";
    return this.#afterTls();
  }

  /** A complete reply (IMAP: up to the tagged line of our command; SMTP: the last line of a multi-line reply). */
  #takeReply(): string | null {
    const { protocol } = this.#opts;
    let end = -1;
    if (protocol === "smtp") {
      const re = /^\d{3}(?: [^\n]*)?\r?\n/gm;
      let m: RegExpExecArray | null;
      while ((m = re.exec(this.#buf)) !== null) {
        end = m.index + m[0].length;
        break;
      }
    } else if (protocol === "imap" && this.#phase !== "greeting") {
      const tag = this.#phase === "id" ? "mp1 " : "mp0 ";
      const at = this.#buf.startsWith(tag) ? 0 : this.#buf.indexOf("\n" + tag) + 1;
      if (at > 0 || this.#buf.startsWith(tag)) {
        const lf = this.#buf.indexOf("\n", at);
        if (lf >= 0) end = lf + 1;
      }
    } else {
      const lf = this.#buf.indexOf("\n");
      if (lf >= 0) end = lf + 1;
    }
    if (end < 0) return null;
    const reply = this.#buf.slice(0, end);
    this.#buf = this.#buf.slice(end);
    return reply;
  }

  #advance(reply: string): PreambleStep {
    const { protocol } = this.#opts;
    const lastLine = reply.trimEnd().split("\n").pop()!.replace(/\r$/, "");
    switch (this.#phase) {
      case "greeting":
        this.#greeting = this.#greeting.subarray(0, this.#greeting.length - this.#buf.length);
        if (!this.#opts.starttls) return this.#afterTls();
        if (protocol === "imap") {
          this.#phase = "starttls";
          return send("mp0 STARTTLS\r\n");
        }
        if (protocol === "pop3") {
          this.#phase = "starttls";
          return send("STLS\r\n");
        }
        this.#phase = "ehlo";
        return send(`EHLO ${this.#opts.ehloName}\r\n`);
      case "ehlo":
        if (!lastLine.startsWith("250")) return fail(`backend refused EHLO: ${lastLine}`);
        this.#phase = "starttls";
        return send("STARTTLS\r\n");
      case "starttls": {
        const ok = protocol === "imap"
          ? /^mp0 OK\b/i.test(lastLine)
          : protocol === "pop3"
          ? lastLine.startsWith("+OK")
          : lastLine.startsWith("220");
        if (!ok) return fail(`backend refused STARTTLS: ${lastLine.slice(0, 200)}`);
        this.#phase = "tls";
        return { kind: "starttls" };
      }
      case "id":
        // Any tagged reply ends the exchange: ID is informational, a NO or BAD is no reason to stop.
        return this.#done();
      default:
        return fail("unexpected backend data");
    }
  }

  #afterTls(): PreambleStep {
    if (this.#opts.protocol === "imap" && this.#opts.imapId) {
      this.#phase = "id";
      return { kind: "send", data: this.#opts.imapId };
    }
    return this.#done();
  }

  #done(): PreambleStep {
    this.#phase = "done";
    return { kind: "done", greeting: this.#greeting };
  }
}

function send(text: string): PreambleStep {
  return { kind: "send", data: enc.encode(text) };
}

function fail(log: string): PreambleStep {
  return { kind: "fail", log: log.replace(/[\r\n]/g, " ") };
}
