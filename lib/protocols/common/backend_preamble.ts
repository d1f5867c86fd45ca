/**
 * Sans-I/O: what mailproxy says to a backend between its greeting and the login
 * dialogue (`../<protocol>/backend_login.ts`), when there is anything to say:
 * - `backend_tls = "starttls"`: IMAP `STARTTLS`, POP3 `STLS`, SMTP `EHLO` + `STARTTLS`,
 *   then the driver upgrades the connection;
 * - `imap_id = true`: an IMAP `ID` naming the real client, whose reply is swallowed.
 * The greeting is then replayed to the login machine, which checks it as usual (no new
 * greeting follows STARTTLS). Each protocol's states live in its own folder; this file
 * holds the contract and the reply reading they share, which is the login's own
 * reader ({@link BackendReplies}, nginx's rules and the `proxy_buffer` cap).
 * @module
 */

import { binaryForDisplay, toBinary } from "../../util/bytes.ts";
import { BackendReplies } from "./backend_replies.ts";

/** What the driver does next. */
export type PreambleStep =
  | { kind: "send"; data: Uint8Array }
  /** Upgrade the backend connection to TLS, then call {@link BackendPreamble.tlsDone}. */
  | { kind: "starttls" }
  /** Start the login machine and feed it `greeting` first. */
  | { kind: "done"; greeting: Uint8Array }
  /** The backend did not play along; `log` says how (the client gets the internal error). */
  | { kind: "fail"; log: string };

/** One backend preamble dialogue. */
export interface BackendPreamble {
  /** Feeds backend bytes; null when more are needed. */
  receive(data: Uint8Array): PreambleStep | null;
  /** The TLS handshake with the backend finished. */
  tlsDone(): PreambleStep;
}

/** Where the client came from and went to: what an IMAP `ID` reports (imap/backend_id.ts). */
export interface ClientEndpoints {
  /** The real client (after realip). */
  clientIp: string;
  clientPort: number;
  /** Where the client connected to (mailproxy's listen address). */
  localIp: string;
  localPort: number;
  sessionId: string;
}

/** What a protocol's preamble may need; each protocol reads its part. */
export interface PreambleOptions {
  /** `backend_tls = "starttls"` (or Auth-Backend-TLS). */
  starttls: boolean;
  /** `proxy_buffer`: the largest backend reply accepted. */
  proxyBuffer: number;
  /** SMTP: the EHLO argument (server_name). */
  ehloName: string;
  /** IMAP with `imap_id`: the facts its ID names; null = no ID. */
  imapId: ClientEndpoints | null;
}

/** One exchange of a preamble: a command of ours and how its reply is judged. */
export interface PreambleExchange {
  send: string | Uint8Array;
  /** True when the buffered reply is complete (IMAP: our tagged line has come); default: the script's. */
  complete?: (reply: Uint8Array) => boolean;
  /** True when the reply's last line says yes; null: any reply will do (IMAP ID is informational). */
  accept: ((lastLine: string) => boolean) | null;
  /** What the log names when the reply says no ("STARTTLS", "EHLO"). */
  what: string;
}

/** A protocol's preamble as data: what it says, in order, around the TLS upgrade. */
export interface PreambleScript {
  /** True when the buffered reply is complete (SMTP: its last line is not a `250-` continuation). */
  complete?: (reply: Uint8Array) => boolean;
  /** After the greeting, ending with the protocol's STARTTLS command; empty = no STARTTLS. */
  beforeTls: readonly PreambleExchange[];
  /** After the TLS handshake (or right after the greeting without STARTTLS). */
  afterTls: readonly PreambleExchange[];
}

/**
 * Runs a {@link PreambleScript}: reads the greeting (kept for the login machine) and
 * each reply by the login's rules ({@link BackendReplies}), answers each accepted reply
 * with the next command, and asks for the TLS upgrade after the last one before it.
 */
export class ScriptedPreamble implements BackendPreamble {
  readonly #replies: BackendReplies;
  readonly #script: PreambleScript;
  #greeting: Uint8Array | null = null;
  /** The exchanges still to run, the first one's reply awaited (once the greeting is in). */
  #queue: PreambleExchange[];
  #tlsPending: boolean;

  constructor(proxyBuffer: number, script: PreambleScript) {
    // Nothing of ours goes to the client from here (the driver sends the internal
    // error) and no password is in play yet.
    this.#replies = new BackendReplies({
      proxyBuffer,
      passErrorMessage: false,
      internalError: "",
      secret: "",
    });
    this.#script = script;
    this.#queue = [...script.beforeTls];
    this.#tlsPending = script.beforeTls.length > 0;
  }

  receive(data: Uint8Array): PreambleStep | null {
    const reply = this.#replies.read(data);
    if (reply === null) return null;
    if (!(reply instanceof Uint8Array)) {
      return { kind: "fail", log: reply.kind === "fail" ? reply.log : "unexpected backend data" };
    }
    const awaited = this.#greeting === null ? null : this.#queue[0];
    if (this.#greeting !== null && awaited === undefined) return preambleFail("unexpected backend data");
    const complete = awaited?.complete ?? this.#script.complete;
    if (complete && !complete(reply)) return null;
    this.#replies.drop();
    if (awaited === null) {
      this.#greeting = reply.slice();
      return this.#tlsPending ? this.#sendNext() : this.#afterTls();
    }
    const line = lastLine(reply);
    if (awaited.accept && !awaited.accept(line)) {
      return preambleFail(`backend refused ${awaited.what}: ${line}`);
    }
    this.#queue.shift();
    if (this.#queue.length > 0) return this.#sendNext();
    if (this.#tlsPending) return { kind: "starttls" };
    return { kind: "done", greeting: this.#greeting! };
  }

  tlsDone(): PreambleStep {
    return this.#afterTls();
  }

  #afterTls(): PreambleStep {
    this.#tlsPending = false;
    this.#queue = [...this.#script.afterTls];
    return this.#queue.length > 0 ? this.#sendNext() : { kind: "done", greeting: this.#greeting! };
  }

  #sendNext(): PreambleStep {
    const line = this.#queue[0].send;
    return { kind: "send", data: typeof line === "string" ? new TextEncoder().encode(line) : line };
  }
}

/** The preamble of `script`, or null when it has nothing to say. */
export function scriptedPreamble(proxyBuffer: number, script: PreambleScript): BackendPreamble | null {
  if (script.beforeTls.length === 0 && script.afterTls.length === 0) return null;
  return new ScriptedPreamble(proxyBuffer, script);
}

/** The last line of a reply without its CRLF, readable and bounded, for checks and logs. */
export function lastLine(reply: Uint8Array): string {
  const text = toBinary(reply).replace(/\r?\n$/, "");
  const line = text.slice(text.lastIndexOf("\n") + 1).replace(/\r$/, "");
  return binaryForDisplay(line.slice(0, 200));
}

/** A failure step whose log line cannot break the log format. */
export function preambleFail(log: string): PreambleStep {
  return { kind: "fail", log: log.replace(/[\r\n]/g, " ") };
}
