/**
 * Finds the line on which each TOML key was written. smol-toml returns plain values
 * without positions, so this scans the (already syntax-checked) source once: table
 * headers, `key = value` lines, and keys/elements inside inline tables and arrays.
 * Paths use array indices for arrays of tables, e.g. `["server", 1, "timeout"]`.
 * @module
 */

/** A key path: table/key names and array indices. */
export type KeyPath = readonly (string | number)[];

/** Line numbers (1-based) of key paths, with fallback to the nearest enclosing path. */
export class LineIndex {
  readonly #lines = new Map<string, number>();

  /** Records the first line seen for a path. */
  set(path: KeyPath, line: number): void {
    const id = JSON.stringify(path);
    if (!this.#lines.has(id)) this.#lines.set(id, line);
  }

  /** Line of the path, else of its closest recorded ancestor, else 1. */
  lineOf(path: KeyPath): number {
    for (let n = path.length; n > 0; n--) {
      const line = this.#lines.get(JSON.stringify(path.slice(0, n)));
      if (line !== undefined) return line;
    }
    return 1;
  }

  /** Whether the exact path was seen (not a fallback). */
  has(path: KeyPath): boolean {
    return this.#lines.has(JSON.stringify(path));
  }
}

/** Scans TOML source text and returns where each key starts. Assumes valid TOML. */
export function indexKeyLines(text: string): LineIndex {
  return new Scanner(text).run();
}

class Scanner {
  readonly index = new LineIndex();
  readonly arrayCounts = new Map<string, number>();
  pos = 0;
  line = 1;

  constructor(readonly text: string) {}

  run(): LineIndex {
    let table: (string | number)[] = [];
    while (this.pos < this.text.length) {
      const start = this.pos;
      this.skipBlank(false);
      const c = this.text[this.pos];
      if (c === undefined) break;
      if (c === "\n") {
        this.newline();
      } else if (c === "#") {
        this.skipComment();
      } else if (c === "[") {
        table = this.header();
      } else {
        const key = this.key();
        this.skipBlank(false);
        if (this.text[this.pos] === "=" && key.length > 0) {
          this.pos++;
          this.recordKey([...table, ...key]);
          this.value([...table, ...key]);
        } else {
          this.skipLine();
        }
      }
      if (this.pos === start) this.pos++; // never stall on unexpected input
    }
    return this.index;
  }

  newline(): void {
    this.pos++;
    this.line++;
  }

  /** Skips spaces and tabs; with `lines`, also newlines and comments (inside arrays). */
  skipBlank(lines: boolean): void {
    for (;;) {
      const c = this.text[this.pos];
      if (c === " " || c === "\t" || c === "\r") this.pos++;
      else if (lines && c === "\n") this.newline();
      else if (lines && c === "#") this.skipComment();
      else return;
    }
  }

  skipComment(): void {
    while (this.pos < this.text.length && this.text[this.pos] !== "\n") this.pos++;
  }

  skipLine(): void {
    this.skipComment();
  }

  recordKey(path: (string | number)[]): void {
    // Dotted keys (a.b.c = 1) also define their parents on this line.
    for (let n = 1; n <= path.length; n++) this.index.set(path.slice(0, n), this.line);
  }

  /** Reads `[a.b]` or `[[a.b]]` and returns the resolved table path. */
  header(): (string | number)[] {
    const isArray = this.text[this.pos + 1] === "[";
    this.pos += isArray ? 2 : 1;
    this.skipBlank(false);
    const keys = this.key();
    this.skipBlank(false);
    this.pos += isArray ? 2 : 1;
    const resolved: (string | number)[] = [];
    keys.forEach((k, i) => {
      resolved.push(k);
      const id = JSON.stringify(resolved);
      const count = this.arrayCounts.get(id);
      if (isArray && i === keys.length - 1) {
        this.index.set(resolved, this.line);
        this.arrayCounts.set(id, (count ?? 0) + 1);
        resolved.push(count ?? 0);
      } else if (count !== undefined) {
        resolved.push(count - 1); // a sub-table of the latest element of an array of tables
      }
    });
    this.index.set(resolved, this.line);
    this.skipLine();
    return resolved;
  }

  /** Reads a possibly dotted key of bare and quoted parts. */
  key(): string[] {
    const parts: string[] = [];
    for (;;) {
      this.skipBlank(false);
      const c = this.text[this.pos];
      if (c === '"' || c === "'") {
        parts.push(this.quoted());
      } else {
        const m = /[A-Za-z0-9_-]+/y;
        m.lastIndex = this.pos;
        const found = m.exec(this.text);
        if (!found) return parts;
        parts.push(found[0]);
        this.pos = m.lastIndex;
      }
      this.skipBlank(false);
      if (this.text[this.pos] !== ".") return parts;
      this.pos++;
    }
  }

  /** Reads a quoted key or string and returns its content (escapes approximated). */
  quoted(): string {
    const quote = this.text[this.pos];
    if (this.text.startsWith(quote.repeat(3), this.pos)) {
      this.multiline(quote);
      return "";
    }
    this.pos++;
    let out = "";
    while (this.pos < this.text.length && this.text[this.pos] !== quote && this.text[this.pos] !== "\n") {
      // Escapes only need to be skipped correctly; keys with escapes are rare enough
      // that an approximate name (the escaped character itself) is fine.
      if (quote === '"' && this.text[this.pos] === "\\") this.pos++;
      out += this.text[this.pos++];
    }
    this.pos++;
    return out;
  }

  multiline(quote: string): void {
    const delim = quote.repeat(3);
    this.pos += 3;
    while (this.pos < this.text.length && !this.text.startsWith(delim, this.pos)) {
      if (quote === '"' && this.text[this.pos] === "\\") this.pos++;
      if (this.text[this.pos] === "\n") this.line++;
      this.pos++;
    }
    this.pos += 3;
    // Up to two extra quotes may close the string ("""a"""" is legal).
    while (this.text[this.pos] === quote) this.pos++;
  }

  /** Skips one value, recording keys of inline tables and elements of arrays. */
  value(path: (string | number)[]): void {
    this.skipBlank(false);
    const c = this.text[this.pos];
    if (c === '"' || c === "'") {
      this.quoted();
    } else if (c === "[") {
      this.pos++;
      for (let i = 0;; i++) {
        this.skipBlank(true);
        if (this.text[this.pos] === "]" || this.pos >= this.text.length) break;
        this.index.set([...path, i], this.line);
        this.value([...path, i]);
        this.skipBlank(true);
        if (this.text[this.pos] === ",") this.pos++;
      }
      this.pos++;
    } else if (c === "{") {
      this.pos++;
      for (;;) {
        this.skipBlank(true);
        if (this.text[this.pos] === "}" || this.pos >= this.text.length) break;
        const key = this.key();
        this.skipBlank(false);
        if (this.text[this.pos] !== "=" || key.length === 0) break;
        this.pos++;
        this.recordKey([...path, ...key]);
        this.value([...path, ...key]);
        this.skipBlank(true);
        if (this.text[this.pos] === ",") this.pos++;
      }
      this.pos++;
    } else {
      const m = /[^,\]}\s#]+/y;
      m.lastIndex = this.pos;
      if (m.exec(this.text)) this.pos = m.lastIndex;
      // Dates may contain one space ("1979-05-27 07:32:00"); the rest of the line is skipped anyway.
    }
  }
}
