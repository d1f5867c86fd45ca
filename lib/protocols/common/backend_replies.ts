/**
 * Reading the backend's replies during the login dialogue, shared by the IMAP and
 * POP3 backend logins. The rules are nginx's `ngx_mail_proxy_read_response` (spec
 * §5.1): a reply is judged only when the buffered bytes are at least 4 and end with
 * CRLF; more than `proxy_buffer` bytes without that is "too long"; bytes beyond the
 * judged reply are dropped when the next line is sent; after the last reply
 * everything buffered goes to the client. Failures carry the protocol's
 * internal-error line, or the backend's own reply with `proxy_pass_error_message`.
 * @module
 */

import { binaryForDisplay, concat, fromBinary, toBinary } from "../../util/bytes.ts";
import type { BackendStep } from "../types.ts";

const CR = 0x0d;
const LF = 0x0a;
const EMPTY = new Uint8Array(0);
/** How much of a bad reply goes into the log line. */
const LOG_EXCERPT = 200;

/** What a {@link BackendReplies} reader needs to know. */
export interface BackendRepliesOptions {
  /** `proxy_buffer`: the largest reply accepted. */
  proxyBuffer: number;
  /** `proxy_pass_error_message`: an unexpected reply goes to the client verbatim. */
  passErrorMessage: boolean;
  /** The protocol's internal-error line (with CRLF). */
  internalError: string;
  /** The password sent to the backend: never written into a log line. */
  secret: string;
}

/** The backend reply buffer of one login dialogue. */
export class BackendReplies {
  readonly #size: number;
  readonly #passError: boolean;
  readonly #internalError: string;
  readonly #secret: string;
  #buf: Uint8Array = EMPTY;
  #finished = false;

  constructor(opts: BackendRepliesOptions) {
    this.#size = Math.max(1, opts.proxyBuffer);
    this.#passError = opts.passErrorMessage;
    this.#internalError = opts.internalError;
    this.#secret = binaryForDisplay(opts.secret);
  }

  /** True once `done` or a failure ended the dialogue. */
  get finished(): boolean {
    return this.#finished;
  }

  /**
   * Appends backend bytes. Returns the reply to judge (the buffered bytes, at most
   * `proxy_buffer` of them), null while more bytes are needed (or after the end), or
   * the failure step for a reply that does not fit the buffer.
   */
  read(data: Uint8Array): Uint8Array | BackendStep | null {
    if (this.#finished) return null;
    if (data.length > 0) this.#buf = concat([this.#buf, data]);
    // nginx never reads more than proxy_buffer bytes for one reply; the rest stays
    // queued as the start of whatever comes next.
    const size = this.#size;
    const reply = this.#buf.length > size ? this.#buf.subarray(0, size) : this.#buf;
    const n = reply.length;
    if (n < 4 && n < size) return null;
    if (reply[n - 2] === CR && reply[n - 1] === LF) return reply;
    if (n < size) return null;
    return this.fail(this.#internalError, `upstream sent too long response line: "${excerpt(reply)}"`);
  }

  /** The judged reply is answered with `line`: it (and whatever followed it within the buffer) is dropped. */
  send(line: string): BackendStep {
    this.drop();
    return { kind: "send", data: fromBinary(line) };
  }

  /** The judged reply is consumed without an answer of ours: it (and whatever followed it within the buffer) is dropped. */
  drop(): void {
    this.#buf = this.#buf.length > this.#size ? this.#buf.slice(this.#size) : EMPTY;
  }

  /** Logged in: everything the backend sent goes to the client, as nginx relays its buffer. */
  done(): BackendStep {
    const toClient = this.#buf;
    this.#buf = EMPTY;
    this.#finished = true;
    return { kind: "done", toClient };
  }

  /** `reply` is not what the step expected; `what` names the step for the log. */
  invalid(reply: Uint8Array, what: string): BackendStep {
    const log = `upstream sent invalid response to ${what}: "${excerpt(reply)}"`;
    return this.fail(this.#passError ? reply.slice() : this.#internalError, log);
  }

  /** Ends the dialogue: `toClient` goes to the client, `log` (scrubbed of the password) to the log. */
  fail(toClient: Uint8Array | string, log: string): BackendStep {
    this.#finished = true;
    this.#buf = EMPTY;
    const data = typeof toClient === "string" ? fromBinary(toClient) : toClient;
    return { kind: "fail", toClient: data, log: this.#scrub(log) };
  }

  /** Log lines never carry the password, even if a backend echoes it. */
  #scrub(text: string): string {
    return this.#secret.length > 0 ? text.split(this.#secret).join("***") : text;
  }
}

/** True when `bytes` holds the ASCII `text` at index `at`. */
export function startsWithText(bytes: Uint8Array, at: number, text: string): boolean {
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
