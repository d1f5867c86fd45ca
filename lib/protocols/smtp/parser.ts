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
import { commandArguments, lineVerb, responseArguments } from "../common/line_arguments.ts";
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

/** An incremental SMTP command parser over lines of at most `limit` (smtp_client_buffer) bytes. */
export class SmtpCommandParser extends LineCommandParser<SmtpParseEvent> {
  constructor(limit: number) {
    super(limit, { command: parseCommand, response: parseResponse, tooLong: { kind: "too-long" } });
  }
}

/** A command line (ending in LF): a verb of the known set, then its arguments. */
function parseCommand(line: Uint8Array): SmtpParseEvent {
  const found = lineVerb(line);
  if (found === null || !VERBS.has(found.verb)) return INVALID;
  const parsed = commandArguments(line, found.end, { maxArgs: MAX_ARGS });
  if (parsed === null) return INVALID;
  const text = toBinary(line.subarray(0, Math.max(found.end, parsed.lastArgEnd)));
  return { kind: "command", verb: found.verb as SmtpVerb, args: parsed.args, line: text };
}

/** A SASL response line: nginx starts it in the argument state, spaces split. */
function parseResponse(line: Uint8Array): SmtpParseEvent {
  const parsed = responseArguments(line, MAX_ARGS);
  return parsed === null ? INVALID : { kind: "response", args: parsed.args };
}
