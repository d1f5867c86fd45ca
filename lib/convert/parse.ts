/**
 * Builds the directive tree of one nginx config file from its tokens, attaching each
 * `#` comment to the directive it belongs to: own-line comments to the next directive,
 * a comment after `;`, `{` or `}` on the same line to that directive. Iterative, so
 * deeply nested input cannot overflow the stack.
 * @module
 */

import { tokenize } from "./lexer.ts";

/** One nginx directive (`name args;`) or block (`name args { … }`). */
export interface Directive {
  name: string;
  args: string[];
  /** File it was read from (as the converter names it in messages). */
  file: string;
  line: number;
  /** Present for blocks. */
  block?: Directive[];
  /** Own-line comments right before the directive. */
  comments: string[];
  /** Comments on the directive's own lines (after its terminator or between its words). */
  trailing: string[];
  /** Blocks: comments before the closing `}`. */
  endComments: string[];
}

/** A parsed file: its directives and the comments after the last one. */
export type ParseResult =
  | { ok: true; directives: Directive[]; endComments: string[] }
  | { ok: false; error: string };

interface Open {
  list: Directive[];
  owner?: Directive;
}

/** Parses one file's text; `file` is used in the directives and in the error (`FILE:LINE: …`). */
export function parseNginx(text: string, file: string): ParseResult {
  const lexed = tokenize(text);
  if (!lexed.ok) return { ok: false, error: `${file}:${lexed.line}: ${lexed.error}` };
  const top: Directive[] = [];
  const stack: Open[] = [{ list: top }];
  let pending: string[] = [];
  let current: Directive | undefined;
  // The directive whose terminator was the last token, and that token's line.
  let last: { directive: Directive; line: number } | undefined;
  const fail = (line: number, error: string): ParseResult => ({
    ok: false,
    error: `${file}:${line}: ${error}`,
  });

  for (const tok of lexed.tokens) {
    const open = stack[stack.length - 1];
    switch (tok.type) {
      case "comment":
        if (current) current.trailing.push(tok.text);
        else if (!tok.ownLine && last && last.line === tok.line) last.directive.trailing.push(tok.text);
        else pending.push(tok.text);
        break;
      case "word":
        if (current) current.args.push(tok.value);
        else {
          current = {
            name: tok.value,
            args: [],
            file,
            line: tok.line,
            comments: pending,
            trailing: [],
            endComments: [],
          };
          pending = [];
        }
        break;
      case ";":
        if (!current) return fail(tok.line, 'unexpected ";"');
        open.list.push(current);
        last = { directive: current, line: tok.line };
        current = undefined;
        break;
      case "{":
        if (!current) return fail(tok.line, 'unexpected "{"');
        current.block = [];
        open.list.push(current);
        stack.push({ list: current.block, owner: current });
        last = { directive: current, line: tok.line };
        current = undefined;
        break;
      case "}":
        if (current || !open.owner) return fail(tok.line, 'unexpected "}"');
        open.owner.endComments = pending;
        pending = [];
        stack.pop();
        last = { directive: open.owner, line: tok.line };
        break;
    }
  }
  const endLine = text.split("\n").length;
  if (current) return fail(endLine, 'unexpected end of file, expecting ";" or "}"');
  if (stack.length > 1) return fail(endLine, 'unexpected end of file, expecting "}"');
  return { ok: true, directives: top, endComments: pending };
}

/** A directive as nginx text (`name arg …;` or `name arg { … }`), quoting where needed. */
export function directiveText(d: Directive): string {
  const words = [d.name, ...d.args].map(quoteWord).join(" ");
  return d.block ? `${words} { … }` : `${words};`;
}

function quoteWord(word: string): string {
  if (word !== "" && !/[\s;{}"'#\\]/.test(word)) return word;
  const escaped = word.replace(/["\\]/g, "\\$&").replace(/\n/g, "\\n").replace(/\r/g, "\\r").replace(
    /\t/g,
    "\\t",
  );
  return `"${escaped}"`;
}
