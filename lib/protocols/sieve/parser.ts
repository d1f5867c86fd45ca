/**
 * The ManageSieve (RFC 5804) client command parser, sans-I/O: a command is an atom
 * followed by arguments separated by spaces and ended by CRLF (a bare LF is accepted).
 * Arguments are quoted strings (`"…"` with `\"` and `\\` escapes, at most 1024 octets,
 * RFC 5804 §4), literals (`{N+}` CRLF N octets, and `{N}`, which ManageSieve servers
 * also take from clients: there is no continuation request in ManageSieve, so both are
 * read the same way) or atoms/numbers. During a SASL exchange a line is one string
 * (the client's response, `"*"` to cancel).
 *
 * The whole command, literals included, must fit `limit` (`sieve_client_buffer`): a
 * literal announced larger than what is left is refused at once (`too-long`), before
 * its bytes arrive, so a hostile length never makes the parser buffer anything.
 *
 * Parsing is incremental per token: a token is scanned once it is complete (quoted
 * strings and atoms are bounded, literals are taken by length), so a command that
 * trickles in byte by byte costs no more than one that comes at once.
 * @module
 */

import { toBinary } from "../../util/bytes.ts";
import { CommandBuffer } from "../common/command_buffer.ts";

/** RFC 5804 §4: quoted strings are limited to 1024 octets. */
export const MAX_QUOTED = 1024;
/** Longest atom (command name or number) accepted. */
const MAX_ATOM = 1024;
/** Longest literal length written in digits. */
const MAX_DIGITS = 10;

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;

/** What one call of {@link SieveCommandParser.next} found. */
export type SieveParseEvent =
  /** A complete command: its name upper-cased, its arguments as binary strings. */
  | { kind: "command"; verb: string; args: string[] }
  /** A complete SASL response line (in response mode): its strings. */
  | { kind: "response"; args: string[] }
  /** A malformed line, consumed up to its end; `reason` is for the log. */
  | { kind: "invalid"; reason: string }
  /** The command does not fit `limit` (or announced a literal that cannot): the session must end. */
  | { kind: "too-long" };

/** Where the parser is inside the current line. */
type State =
  /** Before the next token (or the line end). */
  | { at: "token" }
  /** Inside a literal of `left` more octets. */
  | { at: "literal"; left: number }
  /** After an error, skipping to the end of the line; `seen` bytes of it are gone already. */
  | { at: "skip"; reason: string; seen: number };

/** An incremental parser of ManageSieve client lines. */
export class SieveCommandParser {
  readonly #limit: number;
  readonly #buf = new CommandBuffer();
  /** Index of the next unscanned byte of the current line (absolute index into the buffer). */
  #pos = 0;
  #state: State = { at: "token" };
  #tokens: string[] = [];
  /** The next line is a SASL response, not a command. */
  #response = false;
  /** Where the last scan error was found (absolute index). */
  #errAt = 0;

  /** `limit`: the longest command accepted, literals included (`sieve_client_buffer`). */
  constructor(limit: number) {
    this.#limit = Math.max(1, limit);
  }

  /** Bytes held for the current, incomplete line (and any pipelined after it). */
  get buffered(): number {
    return this.#buf.length;
  }

  /** Appends client bytes. */
  push(data: Uint8Array): void {
    const shift = this.#buf.push(data);
    this.#pos -= shift;
  }

  /** The next line is read as a SASL response (one string). */
  expectResponse(): void {
    this.#response = true;
  }

  /** Removes and returns every buffered, unparsed byte (pipelined after authentication). */
  take(): Uint8Array {
    const rest = this.#buf.take();
    this.#reset(0);
    return rest;
  }

  /** Drops every buffered byte (bytes sent in clear behind STARTTLS). */
  discard(): void {
    this.#buf.clear();
    this.#reset(0);
  }

  /** The next complete event, or null when more bytes are needed. */
  next(): SieveParseEvent | null {
    const buf = this.#buf;
    const bytes = buf.bytes;
    const end = buf.end;
    if (this.#pos < buf.start) this.#pos = buf.start;
    while (true) {
      const state = this.#state;
      if (state.at === "skip") {
        const lf = bytes.subarray(this.#pos, end).indexOf(LF);
        // A bad line is still a line: longer than the limit (its CR aside), it ends the session.
        const seen = state.seen + (lf < 0 ? end - this.#pos : lf);
        if (seen > this.#limit + 1) {
          this.discard();
          return { kind: "too-long" };
        }
        if (lf < 0) {
          // Nothing of a bad line is kept: skipping needs no buffer.
          state.seen = seen;
          this.#pos = buf.consume(end);
          return null;
        }
        this.#finishLine(this.#pos + lf + 1);
        return { kind: "invalid", reason: state.reason };
      }
      if (state.at === "literal") {
        // One byte beyond the literal must be in, so what follows it is judged the same
        // however the bytes were split.
        if (end - this.#pos <= state.left) return null;
        this.#tokens.push(toBinary(bytes.subarray(this.#pos, this.#pos + state.left)));
        this.#pos += state.left;
        this.#state = { at: "token" };
        if (!this.#separated(bytes)) return this.#error(this.#pos, "no space after a literal");
        continue;
      }
      const p = this.#pos;
      if (p >= end) return this.#tooLong(end, 2) ?? null;
      const c = bytes[p];
      if (c === CR || c === LF) {
        const lineEnd = c === LF ? p + 1 : p + 1 < end ? (bytes[p + 1] === LF ? p + 2 : -1) : 0;
        if (lineEnd === 0) return null;
        if (lineEnd < 0) return this.#error(p, "CR without LF");
        return this.#complete(lineEnd);
      }
      if (c === SP) {
        if (this.#tokens.length === 0) return this.#error(p, "line starts with a space");
        this.#pos++;
        continue;
      }
      const scanned = c === DQUOTE
        ? this.#quoted(bytes, p, end)
        : c === LBRACE
        ? this.#literalHeader(bytes, p, end)
        : this.#atom(bytes, p, end);
      if (scanned === null) return this.#tooLong(end, 2) ?? null;
      if (typeof scanned === "string") return this.#error(this.#errAt, scanned);
      const tooLong = this.#tooLong(this.#pos, 0);
      if (tooLong) return tooLong;
    }
  }

  /**
   * The command exceeds the limit once its bytes up to `upTo` (the end of what was
   * scanned, or of the buffer when a token is incomplete: then `slack` leaves room for
   * a CRLF that may be among them) and any announced literal are counted (the CRLF
   * ending the line is not); then the session ends.
   */
  #tooLong(upTo: number, slack: number): SieveParseEvent | undefined {
    const state = this.#state;
    const used = upTo - this.#buf.start + (state.at === "literal" ? state.left : 0);
    if (used <= this.#limit + slack) return undefined;
    this.discard();
    return { kind: "too-long" };
  }

  /** After a literal or quoted string (the byte after it is buffered): a space or the line end. */
  #separated(bytes: Uint8Array): boolean {
    const c = bytes[this.#pos];
    return c === SP || c === CR || c === LF;
  }

  /** A quoted string at `p`: pushed as a token, or null (incomplete), or an error text. */
  #quoted(bytes: Uint8Array, p: number, end: number): true | null | string {
    let out = "";
    let i = p + 1;
    while (i < end) {
      const c = bytes[i];
      if (c === DQUOTE) {
        // As for literals: the byte after the closing quote decides, so wait for it.
        if (i + 1 >= end) return null;
        this.#tokens.push(out);
        this.#pos = i + 1;
        if (!this.#separated(bytes)) return this.#fail(this.#pos, "no space after a quoted string");
        return true;
      }
      if (c === CR || c === LF) return this.#fail(i, "line break in a quoted string");
      if (c === BACKSLASH) {
        if (i + 1 >= end) return null;
        const next = bytes[i + 1];
        if (next !== DQUOTE && next !== BACKSLASH) return this.#fail(i, "bad escape in a quoted string");
        out += String.fromCharCode(next);
        i += 2;
      } else {
        out += String.fromCharCode(c);
        i++;
      }
      if (out.length > MAX_QUOTED) return this.#fail(i, "quoted string longer than 1024 octets");
    }
    return i - p > MAX_QUOTED + 2 ? "quoted string longer than 1024 octets" : null;
  }

  /** `{N}` or `{N+}` CRLF at `p`: enters the literal, or null (incomplete), or an error text. */
  #literalHeader(bytes: Uint8Array, p: number, end: number): true | null | string {
    let i = p + 1;
    let digits = "";
    while (i < end && bytes[i] >= 0x30 && bytes[i] <= 0x39) {
      digits += String.fromCharCode(bytes[i]);
      i++;
      if (digits.length > MAX_DIGITS) return this.#fail(i, "literal length too long");
    }
    if (i >= end) return null;
    if (digits === "") return this.#fail(i, "bad literal");
    if (bytes[i] === 0x2b /* + */) i++;
    if (i >= end) return null;
    if (bytes[i] !== 0x7d /* } */) return this.#fail(i, "bad literal");
    i++;
    if (i >= end) return null;
    if (bytes[i] === CR) i++;
    if (i >= end) return null;
    if (bytes[i] !== LF) return this.#fail(i, "no line break after a literal length");
    this.#pos = i + 1;
    this.#state = { at: "literal", left: Number(digits) };
    return true;
  }

  /** An atom (command name, number) at `p`. */
  #atom(bytes: Uint8Array, p: number, end: number): true | null | string {
    let i = p;
    while (i < end && i - p <= MAX_ATOM) {
      const c = bytes[i];
      if (c === SP || c === CR || c === LF) break;
      if (c < 0x21 || c > 0x7e || c === DQUOTE || c === LBRACE || c === BACKSLASH) {
        return this.#fail(i, "bad character");
      }
      i++;
    }
    if (i - p > MAX_ATOM) return this.#fail(i, "atom too long");
    if (i >= end) return null;
    this.#tokens.push(toBinary(bytes.subarray(p, i)));
    this.#pos = i;
    return true;
  }

  /** The line ends at `lineEnd`: the command (or response) it holds. */
  #complete(lineEnd: number): SieveParseEvent {
    const tokens = this.#tokens;
    const response = this.#response;
    this.#finishLine(lineEnd);
    if (response) return { kind: "response", args: tokens };
    if (tokens.length === 0) return { kind: "invalid", reason: "empty line" };
    const verb = tokens[0];
    if (!/^[A-Za-z]+$/.test(verb)) return { kind: "invalid", reason: "bad command name" };
    return { kind: "command", verb: verb.toUpperCase(), args: tokens.slice(1) };
  }

  /** Records where a scan found an error; returns its reason for {@link #error}. */
  #fail(at: number, reason: string): string {
    this.#errAt = at;
    return reason;
  }

  /**
   * A malformed line: skip to its end, then report it. An error found beyond the
   * limit is the too-long command it would have been had its bytes come one by one.
   */
  #error(at: number, reason: string): SieveParseEvent | null {
    if (at - this.#buf.start > this.#limit) {
      this.discard();
      return { kind: "too-long" };
    }
    this.#state = { at: "skip", reason, seen: this.#pos - this.#buf.start };
    return this.next();
  }

  #finishLine(next: number): void {
    this.#reset(this.#buf.consume(next));
  }

  #reset(pos: number): void {
    this.#pos = pos;
    this.#state = { at: "token" };
    this.#tokens = [];
    this.#response = false;
  }
}

/**
 * Where the first response line (`OK`, `NO` or `BYE`) of a server reply ends, skipping
 * `{N}` literals of the lines before it (capability lists may carry them), or null when
 * none is complete yet. `kind` names the response.
 */
export function responseEnd(reply: Uint8Array): { end: number; kind: "OK" | "NO" | "BYE" } | null {
  let lineStart = 0;
  let i = 0;
  while (i < reply.length) {
    const lf = reply.indexOf(LF, i);
    if (lf < 0) return null;
    // A physical line ending in a literal length continues after the literal's octets.
    const literal = /\{(\d{1,10})\+?\}\r?$/.exec(toBinary(reply.subarray(Math.max(i, lf - 16), lf)));
    if (literal) {
      i = lf + 1 + Number(literal[1]);
      continue;
    }
    const head = toBinary(reply.subarray(lineStart, Math.min(lf, lineStart + 4)));
    const kind = /^(OK|NO|BYE)(?=$|[ (\r])/i.exec(head);
    if (kind) return { end: lf + 1, kind: kind[1].toUpperCase() as "OK" | "NO" | "BYE" };
    i = lineStart = lf + 1;
  }
  return null;
}

/** A ManageSieve quoted string of `text` (no CR/LF: callers pass one-line text). */
export function quoted(text: string): string {
  return `"${text.replace(/[\r\n]+/g, " ").replace(/["\\]/g, (c) => "\\" + c)}"`;
}
