/**
 * Incremental parser of pre-auth POP3 commands, following nginx's
 * `ngx_mail_pop3_parse_command` (spec §4.1.2): bytes in, one event per line out.
 * It never throws and never looks at more than `limit` bytes of one line.
 *
 * A line is judged once its LF has arrived (nginx also skips a rejected line up to
 * its LF before replying), so the result does not depend on how the bytes were split.
 * Rules: the verb is exactly four ASCII letters (case-insensitive) ended by SP, CR or
 * LF; arguments are separated by spaces, at most three; for USER and PASS spaces do
 * not split (`USER a b ` has the one argument `a b `); CR must be followed by LF, a
 * bare LF ends a line too. A SASL response line (after {@link Pop3CommandParser.expectResponse})
 * is split at spaces from its first byte, as nginx's `sw_argument` start state does.
 *
 * Deliberate divergence from nginx: the line limit is `pop3_client_buffer` (default
 * 8k) on a compacting buffer (`../common/command_buffer.ts`), where nginx has a fixed
 * 128-byte buffer that long passwords and OAuth-sized SASL tokens do not fit.
 * @module
 */

import { commandArguments, lineVerb, responseArguments } from "../common/line_arguments.ts";
import { LineCommandParser } from "../common/line_parser.ts";

/** Commands nginx recognises before authentication (STLS included, as in TLS-capable builds). */
export type Pop3Verb = "USER" | "PASS" | "APOP" | "QUIT" | "CAPA" | "AUTH" | "NOOP" | "STLS";

/** What the parser found. Strings are binary strings. */
export type Pop3ParseEvent =
  /** A complete command with at most 3 arguments. */
  | { kind: "command"; verb: Pop3Verb; args: string[] }
  /** A SASL response line (at least one argument, possibly empty). */
  | { kind: "response"; args: string[] }
  /** A parser-level error (counts toward max_errors). */
  | { kind: "invalid" }
  /** The line does not fit the limit: reply, then close (not counted). The parser is dead. */
  | { kind: "too-long" };

const MAX_ARGS = 3;

const VERBS: ReadonlySet<string> = new Set(["USER", "PASS", "APOP", "QUIT", "CAPA", "AUTH", "NOOP", "STLS"]);
const INVALID: Pop3ParseEvent = { kind: "invalid" };

/** An incremental POP3 command parser over lines of at most `limit` (pop3_client_buffer) bytes. */
export class Pop3CommandParser extends LineCommandParser<Pop3ParseEvent> {
  constructor(limit: number) {
    super(limit, { command: parseCommand, response: parseResponse, tooLong: { kind: "too-long" } });
  }
}

/** A command line (ending in LF): a verb of exactly four letters, then its arguments. */
function parseCommand(line: Uint8Array): Pop3ParseEvent {
  const found = lineVerb(line);
  if (found === null || found.end !== 4 || !VERBS.has(found.verb)) return INVALID;
  const joinSpaces = found.verb === "USER" || found.verb === "PASS";
  const parsed = commandArguments(line, found.end, { maxArgs: MAX_ARGS, joinSpaces });
  return parsed === null ? INVALID : { kind: "command", verb: found.verb as Pop3Verb, args: parsed.args };
}

/** A SASL response line: nginx starts it in the argument state, spaces split. */
function parseResponse(line: Uint8Array): Pop3ParseEvent {
  const parsed = responseArguments(line, MAX_ARGS);
  return parsed === null ? INVALID : { kind: "response", args: parsed.args };
}
