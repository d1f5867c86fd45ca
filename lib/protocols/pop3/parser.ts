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

import { toBinary } from "../../util/bytes.ts";
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

const SP = 0x20;
const CR = 0x0d;
const LF = 0x0a;
const MAX_ARGS = 3;

const VERBS: ReadonlySet<string> = new Set(["USER", "PASS", "APOP", "QUIT", "CAPA", "AUTH", "NOOP", "STLS"]);
const INVALID: Pop3ParseEvent = { kind: "invalid" };

/** Argument states of nginx's machine. */
const SPACES_BEFORE_ARGUMENT = 0;
const ARGUMENT = 1;
const ALMOST_DONE = 2;

/** An incremental POP3 command parser over lines of at most `limit` (pop3_client_buffer) bytes. */
export class Pop3CommandParser extends LineCommandParser<Pop3ParseEvent> {
  constructor(limit: number) {
    super(limit, { command: parseCommand, response: parseResponse, tooLong: { kind: "too-long" } });
  }
}

/** A command line (ending in LF). */
function parseCommand(line: Uint8Array): Pop3ParseEvent {
  let p = 0;
  while (isLetter(line[p])) p++;
  const end = line[p];
  if (p !== 4 || (end !== SP && end !== CR && end !== LF)) return INVALID;
  const verb = toBinary(line.subarray(0, 4)).toUpperCase();
  if (!VERBS.has(verb)) return INVALID;
  const joinSpaces = verb === "USER" || verb === "PASS";
  // After CR only LF may follow; a LF is read again by the argument states, which end there.
  const state = end === CR ? ALMOST_DONE : SPACES_BEFORE_ARGUMENT;
  const args = parseArguments(line, end === LF ? p : p + 1, state, joinSpaces);
  return args === null ? INVALID : { kind: "command", verb: verb as Pop3Verb, args };
}

/** A SASL response line: nginx starts it in the argument state, spaces split. */
function parseResponse(line: Uint8Array): Pop3ParseEvent {
  const args = parseArguments(line, 0, ARGUMENT, false);
  return args === null ? INVALID : { kind: "response", args };
}

/**
 * nginx's argument states from index `p` of a line that ends in LF; null for a parse
 * error. An argument started in {@link ARGUMENT} state begins at `p`.
 */
function parseArguments(line: Uint8Array, p: number, state: number, joinSpaces: boolean): string[] | null {
  const args: string[] = [];
  let argStart = p;
  for (; p < line.length; p++) {
    const ch = line[p];
    switch (state) {
      case SPACES_BEFORE_ARGUMENT:
        if (ch === SP) break;
        if (ch === CR) state = ALMOST_DONE;
        else if (ch === LF) return args;
        else if (args.length < MAX_ARGS) {
          argStart = p;
          state = ARGUMENT;
        } else return null;
        break;
      case ARGUMENT:
        if (ch === SP && joinSpaces) break;
        if (ch !== SP && ch !== CR && ch !== LF) break;
        args.push(toBinary(line.subarray(argStart, p)));
        if (ch === LF) return args;
        state = ch === SP ? SPACES_BEFORE_ARGUMENT : ALMOST_DONE;
        break;
      case ALMOST_DONE:
        return ch === LF ? args : null;
    }
  }
  return null;
}

function isLetter(ch: number | undefined): boolean {
  return ch !== undefined && ((ch >= 0x41 && ch <= 0x5a) || (ch >= 0x61 && ch <= 0x7a));
}
