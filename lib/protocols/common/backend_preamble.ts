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

/**
 * The reading every preamble shares: complete replies by the login's rules, the
 * greeting kept for the login machine, one reply at a time consumed.
 */
export class PreambleReader {
  readonly #replies: BackendReplies;
  /** The backend's greeting, once read. */
  greeting: Uint8Array = new Uint8Array(0);

  constructor(proxyBuffer: number) {
    // Nothing of ours goes to the client from here (the driver sends the internal
    // error) and no password is in play yet.
    this.#replies = new BackendReplies({
      proxyBuffer,
      passErrorMessage: false,
      internalError: "",
      secret: "",
    });
  }

  /** Appends bytes; the complete reply buffered so far, a failure, or null for more. */
  read(data: Uint8Array): Uint8Array | PreambleStep | null {
    const reply = this.#replies.read(data);
    if (reply === null || reply instanceof Uint8Array) return reply;
    return { kind: "fail", log: reply.kind === "fail" ? reply.log : "unexpected backend data" };
  }

  /** Keeps `reply` as the greeting (to replay) and consumes it. */
  keepGreeting(reply: Uint8Array): void {
    this.greeting = reply.slice();
    this.#replies.drop();
  }

  /** Consumes the judged reply and sends `line`. */
  send(line: string | Uint8Array): PreambleStep {
    this.#replies.drop();
    return { kind: "send", data: typeof line === "string" ? new TextEncoder().encode(line) : line };
  }

  /** Consumes the judged reply: the driver upgrades to TLS next. */
  starttls(): PreambleStep {
    this.#replies.drop();
    return { kind: "starttls" };
  }

  /** The preamble is over: the login machine gets the greeting. */
  done(): PreambleStep {
    this.#replies.drop();
    return { kind: "done", greeting: this.greeting };
  }
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
