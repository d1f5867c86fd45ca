/**
 * The steps of nginx's POP3 and SMTP command parsers that are the same in both
 * (`ngx_mail_pop3_parse_command`, `ngx_mail_smtp_parse_command`, spec §4.1.2, §4.3):
 * a verb of ASCII letters ended by SP, CR or LF, then the argument states splitting at
 * spaces, where CR must be followed by LF and a bare LF ends the line too. Each
 * protocol keeps its own verb list and limits.
 * @module
 */

import { toBinary } from "../../util/bytes.ts";

const SP = 0x20;
const CR = 0x0d;
const LF = 0x0a;

/** Argument states of nginx's machine. */
const SPACES_BEFORE_ARGUMENT = 0;
const ARGUMENT = 1;
const ALMOST_DONE = 2;

/** The arguments of one line, and where the last one ended (0 if none). */
export interface LineArguments {
  args: string[];
  lastArgEnd: number;
}

/** How a protocol splits arguments. */
export interface ArgumentRules {
  /** More arguments than this is a parse error. */
  maxArgs: number;
  /** Spaces do not split (POP3's USER and PASS): the argument runs to the line's end. */
  joinSpaces?: boolean;
}

/**
 * The verb at the start of a command line (upper-cased binary string) and the index
 * of the byte after its letters; null unless SP, CR or LF follows the letters.
 */
export function lineVerb(line: Uint8Array): { verb: string; end: number } | null {
  let p = 0;
  while (isLetter(line[p])) p++;
  const end = line[p];
  if (end !== SP && end !== CR && end !== LF) return null;
  return { verb: toBinary(line.subarray(0, p)).toUpperCase(), end: p };
}

/** The arguments after a verb that {@link lineVerb} found ending at `verbEnd`; null for a parse error. */
export function commandArguments(
  line: Uint8Array,
  verbEnd: number,
  rules: ArgumentRules,
): LineArguments | null {
  const end = line[verbEnd];
  // After CR only LF may follow; a LF is read again by the argument states, which end there.
  const state = end === CR ? ALMOST_DONE : SPACES_BEFORE_ARGUMENT;
  return parseArguments(line, end === LF ? verbEnd : verbEnd + 1, state, rules);
}

/** A SASL response line: nginx starts it in the argument state, spaces split. */
export function responseArguments(line: Uint8Array, maxArgs: number): LineArguments | null {
  return parseArguments(line, 0, ARGUMENT, { maxArgs });
}

/**
 * nginx's argument states from index `p` of a line that ends in LF; null for a parse
 * error. An argument started in {@link ARGUMENT} state begins at `p`.
 */
function parseArguments(
  line: Uint8Array,
  p: number,
  state: number,
  rules: ArgumentRules,
): LineArguments | null {
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
        else if (args.length < rules.maxArgs) {
          argStart = p;
          state = ARGUMENT;
        } else return null;
        break;
      case ARGUMENT:
        if (ch === SP && rules.joinSpaces) break;
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
