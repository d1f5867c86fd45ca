/**
 * Incremental parser of pre-auth IMAP commands, a port of nginx's
 * `ngx_mail_imap_parse_command` (spec §4.2.2): bytes in, one event at a time out.
 * It never throws and never looks at more than `limit` bytes of one command.
 *
 * Tags are reported with their trailing space (`"a01 "`), as nginx stores them, so a
 * reply is `tag + "OK completed\r\n"`.
 *
 * Deliberate divergences from nginx:
 * - Compacting buffer (`../common/command_buffer.ts`): each command (literals
 *   included) may use the whole `limit` wherever it starts, which makes results
 *   independent of chunking. Likewise an AUTHENTICATE response line gets the whole
 *   limit (nginx counts it together with the AUTHENTICATE line, which stays in its
 *   buffer to keep the tag).
 * - `{0}` is an empty literal (RFC 3501). nginx takes one byte as the content (a bug:
 *   `{0}` CRLF CRLF leaves a bare CR as the argument). A literal needs at least one
 *   digit (nginx accepts `{}` as `{0}`).
 * - The "inside quotes" flag ends with the command. nginx leaks it into the next
 *   command when a quoted string is cut by CR/LF, which makes that command's first
 *   argument swallow spaces.
 * - Literal length overflow: lengths above 2^53 are a parse error (nginx checks
 *   against its size_t since 1.29.6); a large length that cannot fit still gets the
 *   `+ OK` continuation and ends as "too long", like nginx.
 * Matched quirks: a line starting with a space has the one-space tag `" "`; CR/LF
 * inside a quoted string ends the argument; a rejected line ending in `+}` asks the
 * caller to close (the non-synchronising literal data cannot be skipped safely).
 * @module
 */

import { toBinary } from "../../util/bytes.ts";
import { CommandBuffer } from "../common/command_buffer.ts";

/** Commands nginx recognises before authentication. */
export type ImapVerb = "NOOP" | "LOGIN" | "LOGOUT" | "STARTTLS" | "CAPABILITY" | "AUTHENTICATE";

/** What the parser found. Strings are binary strings. */
export type ImapParseEvent =
  /** A complete command; `tag` includes its trailing space; at most 3 `args`. */
  | { kind: "command"; tag: string; verb: ImapVerb; args: string[] }
  /** A complete SASL response line (after {@link ImapCommandParser.expectResponse}). */
  | { kind: "response"; args: string[] }
  /** A synchronising literal was announced: send `+ OK` and keep calling `next()`. */
  | { kind: "literal" }
  /**
   * A parser-level error (counts toward max_errors). `tag` is the line's tag when it
   * was read; `close` asks to close after the reply (a non-synchronising literal follows).
   */
  | { kind: "invalid"; tag: string | undefined; close: boolean }
  /** The command does not fit the buffer: reply, then close (not counted). The parser is dead. */
  | { kind: "too-long"; tag: string | undefined };

const SP = 0x20;
const CR = 0x0d;
const LF = 0x0a;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

const START = 0;
const TAG = 1;
const INVALID = 2;
const SPACES_BEFORE_COMMAND = 3;
const COMMAND = 4;
const SPACES_BEFORE_ARGUMENT = 5;
const ARGUMENT = 6;
const ESCAPED = 7;
const LITERAL = 8;
const NO_SYNC_LITERAL = 9;
const START_LITERAL_ARGUMENT = 10;
const LITERAL_ARGUMENT = 11;
const END_LITERAL_ARGUMENT = 12;
const ALMOST_DONE = 13;
const DEAD = 14;

const MAX_TAG = 32;
const MAX_ARGS = 3;
const MAX_LITERAL = Number.MAX_SAFE_INTEGER;

const VERBS: ReadonlyMap<string, ImapVerb> = new Map(
  (["NOOP", "LOGIN", "LOGOUT", "STARTTLS", "CAPABILITY", "AUTHENTICATE"] as const).map((v) => [v, v]),
);

/** An incremental IMAP command parser over a buffer of at most `limit` bytes per command. */
export class ImapCommandParser {
  readonly #limit: number;
  /** Unconsumed input; its `start` is the current command's first byte. */
  readonly #buf = new CommandBuffer();
  /** Next byte to examine (absolute index into `#buf.bytes`). */
  #scan = 0;
  #state = START;
  #response = false;

  // The command being parsed (absolute indexes into #buf.bytes).
  #tagStart = 0;
  #tag: string | undefined;
  #cmdStart = 0;
  #verb: ImapVerb | undefined;
  #args: string[] = [];
  #argStart = 0;
  #quoted = false;
  #escaped = false;
  #literalLen = 0;
  #literalDigits = 0;
  #noSync = false;

  /** `limit`: imap_client_buffer, the largest command (literals included) accepted. */
  constructor(limit: number) {
    this.#limit = Math.max(1, Math.floor(limit));
  }

  /** Bytes received but not yet consumed by a complete command. */
  get buffered(): number {
    return this.#buf.length;
  }

  /** Appends client bytes (copied: the caller may reuse its buffer). */
  push(data: Uint8Array): void {
    if (data.length === 0 || this.#state === DEAD) return;
    const shift = this.#buf.push(data);
    this.#scan -= shift;
    this.#tagStart -= shift;
    this.#cmdStart -= shift;
    this.#argStart -= shift;
  }

  /** Reads the next line as a SASL response (one or more arguments, nginx's `sw_argument` start). */
  expectResponse(): void {
    if (this.#state === DEAD) return;
    this.#resetCommand();
    this.#response = true;
    this.#state = ARGUMENT;
    this.#argStart = this.#buf.start;
  }

  /** Drops every buffered byte and starts afresh (STARTTLS: no command injection). */
  discard(): void {
    if (this.#state === DEAD) return;
    this.#buf.clear();
    this.#scan = 0;
    this.#resetCommand();
  }

  /** Removes and returns the unconsumed bytes (pipelined after the authenticating command). */
  take(): Uint8Array {
    const rest = this.#buf.take();
    this.#scan = 0;
    if (this.#state !== DEAD) this.#resetCommand();
    return rest;
  }

  /** Parses on; null when more bytes are needed (or after "too-long"). */
  next(): ImapParseEvent | null {
    if (this.#state === DEAD) return null;
    const buf = this.#buf.bytes;
    const limitEnd = Math.min(this.#buf.end, this.#buf.start + this.#limit);
    let p = this.#scan;

    while (p < limitEnd) {
      const ch = buf[p];
      if (this.#state === START) {
        this.#tagStart = p;
        this.#state = TAG;
      }
      switch (this.#state) {
        case TAG:
          if (ch === SP) {
            this.#tag = this.#text(this.#tagStart, p + 1);
            this.#state = SPACES_BEFORE_COMMAND;
          } else if (ch === CR || ch === LF || !isTagChar(ch) || p - this.#tagStart >= MAX_TAG) {
            this.#state = INVALID;
            continue;
          }
          break;

        case INVALID: {
          const lf = buf.subarray(p, limitEnd).indexOf(LF);
          if (lf < 0) {
            p = limitEnd;
            continue;
          }
          return this.#invalid(p + lf);
        }

        case SPACES_BEFORE_COMMAND:
          if (ch === CR || ch === LF) {
            this.#state = INVALID;
            continue;
          }
          if (ch !== SP) {
            this.#cmdStart = p;
            this.#state = COMMAND;
          }
          break;

        case COMMAND:
          if (ch === SP || ch === CR || ch === LF) {
            this.#verb = VERBS.get(this.#text(this.#cmdStart, p).toUpperCase());
            if (this.#verb === undefined) {
              this.#state = INVALID;
              continue;
            }
            if (ch === LF) return this.#done(p);
            this.#state = ch === SP ? SPACES_BEFORE_ARGUMENT : ALMOST_DONE;
          } else if (!isLetter(ch)) {
            this.#state = INVALID;
            continue;
          }
          break;

        case SPACES_BEFORE_ARGUMENT:
          if (ch === SP) break;
          if (ch === CR) {
            this.#state = ALMOST_DONE;
            break;
          }
          if (ch === LF) return this.#done(p);
          if (this.#args.length >= MAX_ARGS) {
            this.#state = INVALID;
            continue;
          }
          if (ch === QUOTE) {
            this.#quoted = true;
            this.#argStart = p + 1;
            this.#state = ARGUMENT;
          } else if (ch === 0x7b /* { */) {
            this.#literalLen = 0;
            this.#literalDigits = 0;
            this.#state = LITERAL;
          } else {
            this.#argStart = p;
            this.#state = ARGUMENT;
          }
          break;

        case ARGUMENT:
          if (ch === SP && this.#quoted) break;
          if (ch === QUOTE) {
            if (!this.#quoted) break;
            this.#quoted = false;
            this.#pushArg(p);
            this.#state = SPACES_BEFORE_ARGUMENT;
          } else if (ch === SP) {
            this.#pushArg(p);
            this.#state = SPACES_BEFORE_ARGUMENT;
          } else if (ch === CR) {
            this.#pushArg(p);
            this.#state = ALMOST_DONE;
          } else if (ch === LF) {
            this.#pushArg(p);
            return this.#done(p);
          } else if (ch === BACKSLASH && this.#quoted) {
            this.#escaped = true;
            this.#state = ESCAPED;
          }
          break;

        case ESCAPED:
          if (ch === CR || ch === LF) {
            this.#state = INVALID;
            continue;
          }
          this.#state = ARGUMENT;
          break;

        case LITERAL:
          if (ch >= 0x30 && ch <= 0x39) {
            this.#literalLen = this.#literalLen * 10 + (ch - 0x30);
            this.#literalDigits++;
            if (this.#literalLen > MAX_LITERAL) {
              this.#state = INVALID;
              continue;
            }
          } else if ((ch === 0x7d /* } */ || ch === 0x2b /* + */) && this.#literalDigits > 0) {
            this.#state = ch === 0x7d ? START_LITERAL_ARGUMENT : NO_SYNC_LITERAL;
          } else {
            this.#state = INVALID;
            continue;
          }
          break;

        case NO_SYNC_LITERAL:
          if (ch !== 0x7d /* } */) {
            this.#state = INVALID;
            continue;
          }
          this.#noSync = true;
          this.#state = START_LITERAL_ARGUMENT;
          break;

        case START_LITERAL_ARGUMENT:
          if (ch === CR) break;
          if (ch !== LF) {
            this.#state = INVALID;
            continue;
          }
          this.#argStart = p + 1;
          if (this.#literalLen === 0) {
            this.#pushArg(p + 1);
            this.#state = END_LITERAL_ARGUMENT;
          } else {
            this.#state = LITERAL_ARGUMENT;
          }
          if (!this.#noSync) {
            // nginx answers `+ OK` here even when the literal data already arrived.
            this.#scan = p + 1;
            return { kind: "literal" };
          }
          this.#noSync = false;
          break;

        case LITERAL_ARGUMENT: {
          const take = Math.min(this.#literalLen, limitEnd - p);
          p += take;
          this.#literalLen -= take;
          if (this.#literalLen === 0) {
            this.#pushArg(p);
            this.#state = END_LITERAL_ARGUMENT;
          }
          continue;
        }

        case END_LITERAL_ARGUMENT:
          // Since nginx 1.29.6 only SP, CR or LF may follow the literal data.
          if (ch === SP) this.#state = SPACES_BEFORE_ARGUMENT;
          else if (ch === CR) this.#state = ALMOST_DONE;
          else if (ch === LF) return this.#done(p);
          else {
            this.#state = INVALID;
            continue;
          }
          break;

        case ALMOST_DONE:
          if (ch === LF) return this.#done(p);
          this.#state = INVALID;
          continue;
      }
      p++;
    }

    this.#scan = p;
    if (this.#buf.length >= this.#limit) {
      const tag = this.#response ? undefined : this.#tag;
      this.#state = DEAD;
      this.#buf.clear();
      this.#scan = 0;
      return { kind: "too-long", tag };
    }
    return null;
  }

  /** The line ended at the LF at `lf`: emit the command (or response) and move on. */
  #done(lf: number): ImapParseEvent {
    const event: ImapParseEvent = this.#response
      ? { kind: "response", args: this.#args }
      : { kind: "command", tag: this.#tag ?? "", verb: this.#verb!, args: this.#args };
    this.#consume(lf + 1);
    return event;
  }

  /** A rejected line ended at the LF at `lf`. */
  #invalid(lf: number): ImapParseEvent {
    // A rejected line ending in `+}` announced a literal that will arrive without a
    // continuation; it cannot be told apart from commands, so the caller closes.
    const bytes = this.#buf.bytes;
    const start = this.#buf.start;
    let q = lf - 1;
    if (q >= start && bytes[q] === CR) q--;
    const close = q - 1 >= start && bytes[q] === 0x7d && bytes[q - 1] === 0x2b;
    const event: ImapParseEvent = { kind: "invalid", tag: this.#response ? undefined : this.#tag, close };
    this.#consume(lf + 1);
    return event;
  }

  #consume(next: number): void {
    this.#scan = this.#buf.consume(next);
    this.#resetCommand();
  }

  #resetCommand(): void {
    this.#state = START;
    this.#response = false;
    this.#tag = undefined;
    this.#verb = undefined;
    this.#args = [];
    this.#quoted = false;
    this.#escaped = false;
    this.#literalLen = 0;
    this.#literalDigits = 0;
    this.#noSync = false;
  }

  #pushArg(end: number): void {
    let arg = this.#text(this.#argStart, end);
    if (this.#escaped) {
      arg = arg.replace(/\\([\s\S])/g, "$1");
      this.#escaped = false;
    }
    this.#args.push(arg);
  }

  #text(from: number, to: number): string {
    return toBinary(this.#buf.bytes.subarray(from, to));
  }
}

function isLetter(ch: number): boolean {
  return (ch >= 0x41 && ch <= 0x5a) || (ch >= 0x61 && ch <= 0x7a);
}

/** Tag characters accepted since nginx 1.21.0: `A–Z a–z 0–9 - . _`. */
function isTagChar(ch: number): boolean {
  return isLetter(ch) || (ch >= 0x30 && ch <= 0x39) || ch === 0x2d || ch === 0x2e || ch === 0x5f;
}
