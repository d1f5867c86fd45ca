/**
 * The line reader shared by the POP3 and SMTP command parsers.
 * @module
 */

import { CommandBuffer } from "./command_buffer.ts";

const LF = 0x0a;

/** How a protocol reads one complete line (ending in LF). */
export interface LineGrammar<E> {
  /** A command line. */
  command(line: Uint8Array): E;
  /** A SASL response line (after {@link LineCommandParser.expectResponse}). */
  response(line: Uint8Array): E;
  /** The event for a line that does not fit the limit. */
  tooLong: E;
}

/**
 * The line-oriented command reader POP3 and SMTP share: lines of at most `limit` bytes
 * (CRLF included) on a compacting buffer, each handed to the protocol's grammar.
 */
export class LineCommandParser<E> {
  readonly #grammar: LineGrammar<E>;
  readonly #limit: number;
  readonly #buf = new CommandBuffer();
  /** Where the search for the next LF resumes (absolute index into `#buf.bytes`). */
  #scan = 0;
  #response = false;
  #dead = false;

  /** `limit`: the protocol's client buffer, the longest line accepted. */
  constructor(limit: number, grammar: LineGrammar<E>) {
    this.#limit = Math.max(1, Math.floor(limit));
    this.#grammar = grammar;
  }

  /** Bytes received but not yet consumed by a complete line. */
  get buffered(): number {
    return this.#buf.length;
  }

  /** Appends client bytes (copied: the caller may reuse its buffer). */
  push(data: Uint8Array): void {
    if (this.#dead) return;
    this.#scan -= this.#buf.push(data);
  }

  /** Reads the next line as a SASL response. */
  expectResponse(): void {
    this.#response = true;
  }

  /** Drops every buffered byte (STARTTLS/STLS: no command injection) and expects a command. */
  discard(): void {
    this.#buf.clear();
    this.#scan = 0;
    this.#response = false;
  }

  /** Removes and returns the unconsumed bytes (pipelined after the authenticating command). */
  take(): Uint8Array {
    const rest = this.#buf.take();
    this.#scan = 0;
    this.#response = false;
    return rest;
  }

  /** Parses the next complete line; null when more bytes are needed (or after "too-long"). */
  next(): E | null {
    if (this.#dead) return null;
    const bytes = this.#buf.bytes;
    const start = this.#buf.start;
    const limitEnd = Math.min(this.#buf.end, start + this.#limit);
    const from = Math.max(this.#scan, start);
    const found = bytes.subarray(from, limitEnd).indexOf(LF);
    if (found < 0) {
      this.#scan = limitEnd;
      if (this.#buf.length < this.#limit) return null;
      this.#dead = true;
      this.#buf.clear();
      return this.#grammar.tooLong;
    }
    const lf = from + found;
    const line = bytes.subarray(start, lf + 1);
    const event = this.#response ? this.#grammar.response(line) : this.#grammar.command(line);
    this.#response = false;
    this.#scan = this.#buf.consume(lf + 1);
    return event;
  }
}
