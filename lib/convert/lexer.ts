/**
 * The nginx configuration tokenizer, following `ngx_conf_read_token`: words separated by
 * blanks, `;` `{` `}` as punctuation, `"…"` and `'…'` quoting, backslash escapes, and `#`
 * comments (kept, so the converter can carry them over). Pure: text in, tokens out.
 * @module
 */

/** One token of an nginx config file. */
export type Token =
  | { type: "word"; value: string; line: number }
  | { type: ";" | "{" | "}"; line: number }
  | {
    type: "comment";
    /** The text after `#`, without the line end. */
    text: string;
    line: number;
    /** Nothing but blanks precedes it on its line. */
    ownLine: boolean;
  };

/** The tokens, or the first syntax error as `LINE: message` (nginx's wording). */
export type LexResult = { ok: true; tokens: Token[] } | { ok: false; line: number; error: string };

const BLANK = new Set([" ", "\t", "\r", "\n"]);

/**
 * Splits config text into tokens. Escapes are decoded as nginx does: `\"`, `\'`, `\\`
 * stand for the character, `\t` `\r` `\n` for the control character; any other
 * backslash is kept. A `#` inside a word is part of it; `${` does not open a block.
 */
export function tokenize(text: string): LexResult {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  let lineHasToken = false;
  const n = text.length;
  while (i < n) {
    const ch = text[i];
    if (ch === "\n") {
      line++;
      lineHasToken = false;
      i++;
      continue;
    }
    if (BLANK.has(ch)) {
      i++;
      continue;
    }
    if (ch === "#") {
      let end = text.indexOf("\n", i);
      if (end < 0) end = n;
      tokens.push({
        type: "comment",
        text: text.slice(i + 1, end).replace(/\r$/, ""),
        line,
        ownLine: !lineHasToken,
      });
      i = end;
      continue;
    }
    lineHasToken = true;
    if (ch === ";" || ch === "{" || ch === "}") {
      tokens.push({ type: ch, line });
      i++;
      continue;
    }
    const start = line;
    const word = ch === '"' || ch === "'" ? readQuoted(text, i, ch) : readBare(text, i);
    if (!word.ok) return { ok: false, line: word.line ?? start, error: word.error };
    for (let k = i; k < word.end; k++) if (text[k] === "\n") line++;
    tokens.push({ type: "word", value: unescape(word.raw), line: start });
    i = word.end;
    if (word.quoted) {
      // nginx: a closing quote must be followed by a blank, ";", "{" or ")".
      const next = text[i];
      if (next !== undefined && !BLANK.has(next) && next !== ";" && next !== "{" && next !== ")") {
        return { ok: false, line, error: `unexpected "${next}"` };
      }
    }
  }
  return { ok: true, tokens };
}

type Scan = { ok: true; raw: string; end: number; quoted: boolean } | {
  ok: false;
  error: string;
  line?: number;
};

function readQuoted(text: string, start: number, quote: string): Scan {
  let i = start + 1;
  while (i < text.length) {
    const ch = text[i];
    if (ch === "\\") {
      i += 2;
      continue;
    }
    if (ch === quote) return { ok: true, raw: text.slice(start + 1, i), end: i + 1, quoted: true };
    i++;
  }
  return {
    ok: false,
    error: 'unexpected end of file, expecting ";" or "}"',
    line: countLines(text, text.length),
  };
}

function readBare(text: string, start: number): Scan {
  let i = start;
  let variable = false;
  while (i < text.length) {
    const ch = text[i];
    if (ch === "\\") {
      i += 2;
      variable = false;
      continue;
    }
    // "${name}" keeps its brace: only a "{" after a blank opens a block.
    if (ch === "{" && variable) {
      i++;
      continue;
    }
    if (BLANK.has(ch) || ch === ";" || ch === "{") break;
    variable = ch === "$";
    i++;
  }
  return {
    ok: true,
    raw: text.slice(start, Math.min(i, text.length)),
    end: Math.min(i, text.length),
    quoted: false,
  };
}

function countLines(text: string, end: number): number {
  let lines = 1;
  for (let i = 0; i < end; i++) if (text[i] === "\n") lines++;
  return lines;
}

const ESCAPES: Record<string, string> = { '"': '"', "'": "'", "\\": "\\", t: "\t", r: "\r", n: "\n" };

/** nginx's escape decoding, applied to quoted and bare words alike. */
function unescape(raw: string): string {
  if (!raw.includes("\\")) return raw;
  let out = "";
  for (let i = 0; i < raw.length; i++) {
    const mapped = raw[i] === "\\" ? ESCAPES[raw[i + 1]] : undefined;
    if (mapped !== undefined) {
      out += mapped;
      i++;
    } else {
      out += raw[i];
    }
  }
  return out;
}
