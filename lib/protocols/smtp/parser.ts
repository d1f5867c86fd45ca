/**
 * Incremental parser of pre-auth SMTP commands, a port of nginx's
 * `ngx_mail_smtp_parse_command` (spec §4.3.3): bytes in, one event at a time out.
 * It never throws and never looks at more than `limit` bytes of one command.
 *
 * - Verb: letters only, case-insensitive; a four-letter verb of the known set or
 *   `STARTTLS`. Anything else (DATA, BDAT, XCLIENT, an empty line…) is invalid.
 * - Arguments: split on spaces (runs of spaces are one separator), at most 11.
 * - CR must be followed by LF; a bare LF ends a line too.
 * - A line is judged once its LF has arrived; an invalid line is skipped up to its
 *   LF (nginx does so too, even across reads), so results do not depend on how the
 *   bytes were split.
 * - A SASL response line (after {@link SmtpCommandParser.expectResponse}) is read
 *   as arguments from its first byte, as nginx's `sw_argument` start does.
 *
 * Deliberate divergence from nginx, shared with the other parsers: the buffer
 * compacts (`../common/command_buffer.ts`), so every command may use the whole
 * `limit` wherever it starts in a pipelined batch; nginx rejects a short command
 * that straddles the end of its fixed buffer.
 * @module
 */

import { toBinary } from "../../util/bytes.ts";
import { LineCommandParser } from "../common/line_parser.ts";

/** Commands nginx recognises before authentication. */
export type SmtpVerb =
  | "HELO"
  | "EHLO"
  | "QUIT"
  | "AUTH"
  | "NOOP"
  | "MAIL"
  | "RSET"
  | "RCPT"
  | "VRFY"
  | "EXPN"
  | "HELP"
  | "STARTTLS";

/** What the parser found. Strings are binary strings. */
export type SmtpParseEvent =
  /**
   * A complete command with at most 11 `args`; `line` runs from the verb's first
   * byte to the last byte of the last argument (what MAIL/RCPT store).
   */
  | { kind: "command"; verb: SmtpVerb; args: string[]; line: string }
  /** A complete SASL response line (after {@link SmtpCommandParser.expectResponse}). */
  | { kind: "response"; args: string[] }
  /** A parser-level error (counts toward max_errors); the line was skipped. */
  | { kind: "invalid" }
  /** The command does not fit the buffer: reply, then close (not counted). The parser is dead. */
  | { kind: "too-long" };

const SP = 0x20;
const CR = 0x0d;
const LF = 0x0a;
const MAX_ARGS = 11;

const VERBS: ReadonlySet<string> = new Set([
  "HELO",
  "EHLO",
  "QUIT",
  "AUTH",
  "NOOP",
  "MAIL",
  "RSET",
  "RCPT",
  "VRFY",
  "EXPN",
  "HELP",
  "STARTTLS",
]);
const INVALID: SmtpParseEvent = { kind: "invalid" };

/** Argument states of nginx's machine. */
const SPACES_BEFORE_ARGUMENT = 0;
const ARGUMENT = 1;
const ALMOST_DONE = 2;

/** An incremental SMTP command parser over lines of at most `limit` (smtp_client_buffer) bytes. */
export class SmtpCommandParser extends LineCommandParser<SmtpParseEvent> {
  constructor(limit: number) {
    super(limit, { command: parseCommand, response: parseResponse, tooLong: { kind: "too-long" } });
  }
}

/** A command line (ending in LF). */
function parseCommand(line: Uint8Array): SmtpParseEvent {
  let p = 0;
  while (isLetter(line[p])) p++;
  const end = line[p];
  if (end !== SP && end !== CR && end !== LF) return INVALID;
  const verb = toBinary(line.subarray(0, p)).toUpperCase();
  if (!VERBS.has(verb)) return INVALID;
  // After CR only LF may follow; a LF is read again by the argument states, which end there.
  const state = end === CR ? ALMOST_DONE : SPACES_BEFORE_ARGUMENT;
  const parsed = parseArguments(line, end === LF ? p : p + 1, state);
  if (parsed === null) return INVALID;
  const text = toBinary(line.subarray(0, Math.max(p, parsed.lastArgEnd)));
  return { kind: "command", verb: verb as SmtpVerb, args: parsed.args, line: text };
}

/** A SASL response line: nginx starts it in the argument state, spaces split. */
function parseResponse(line: Uint8Array): SmtpParseEvent {
  const parsed = parseArguments(line, 0, ARGUMENT);
  return parsed === null ? INVALID : { kind: "response", args: parsed.args };
}

/**
 * nginx's argument states from index `p` of a line that ends in LF; null for a parse
 * error. An argument started in {@link ARGUMENT} state begins at `p`.
 */
function parseArguments(
  line: Uint8Array,
  p: number,
  state: number,
): { args: string[]; lastArgEnd: number } | null {
  const args: string[] = [];
  let argStart = p;
  let lastArgEnd = 0;
  for (; p < line.length; p++) {
    const ch = line[p];
    switch (state) {
      case SPACES_BEFORE_ARGUMENT:
        if (ch === SP) break;
        if (ch === CR) state = ALMOST_DONE;
        else if (ch === LF) return { args, lastArgEnd };
        else if (args.length < MAX_ARGS) {
          argStart = p;
          state = ARGUMENT;
        } else return null;
        break;
      case ARGUMENT:
        if (ch !== SP && ch !== CR && ch !== LF) break;
        args.push(toBinary(line.subarray(argStart, p)));
        lastArgEnd = p;
        if (ch === LF) return { args, lastArgEnd };
        state = ch === SP ? SPACES_BEFORE_ARGUMENT : ALMOST_DONE;
        break;
      case ALMOST_DONE:
        return ch === LF ? { args, lastArgEnd } : null;
    }
  }
  return null;
}

function isLetter(ch: number | undefined): boolean {
  return ch !== undefined && ((ch >= 0x41 && ch <= 0x5a) || (ch >= 0x61 && ch <= 0x7a));
}
