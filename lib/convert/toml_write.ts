/**
 * Writes the converted config as TOML text with comments: a small emitter for the
 * value shapes the schema uses (strings, integers, booleans, arrays, one-level inline
 * tables), so comments can sit next to the keys they describe.
 * @module
 */

import type { TomlValue } from "../config/mod.ts";

/** One output line group: a key with its comments, or comment lines alone. */
export type TomlItem =
  | { kind: "key"; key: string; value: TomlValue; comments: string[]; trailing: string[] }
  | { kind: "comment"; lines: string[] };

/** A table of the output: the top level (no header), `[[server]]`, `[log]`… */
export interface TomlSection {
  /** `[[server]]`, `[log]`; absent for the top level. */
  header?: string;
  /** Comment lines above the header. */
  comments: string[];
  /** Comments after the header on its line. */
  trailing: string[];
  items: TomlItem[];
}

const BARE_KEY = /^[A-Za-z0-9_-]+$/;
const ARRAY_LINE_LIMIT = 100;

/** A TOML key, quoted when it is not a bare key. */
export function tomlKey(key: string): string {
  return BARE_KEY.test(key) ? key : tomlString(key);
}

/** A TOML basic string; escapes what TOML forbids raw (controls other than tab, DEL). */
export function tomlString(text: string): string {
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x7f) out += `\\u${code.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return out + '"';
}

/** A value on one line (arrays and tables inline). */
export function tomlValue(value: TomlValue): string {
  if (typeof value === "string") return tomlString(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `[${value.map(tomlValue).join(", ")}]`;
  const entries = Object.entries(value);
  if (entries.length === 0) return "{}";
  return `{ ${entries.map(([k, v]) => `${tomlKey(k)} = ${tomlValue(v)}`).join(", ")} }`;
}

/** A comment's text made safe for a TOML comment (no control characters but tab). */
function commentText(text: string): string {
  let out = "";
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    const control = (code < 0x20 && ch !== "\t") || code === 0x7f;
    out += control ? `\\x${code.toString(16).padStart(2, "0")}` : ch;
  }
  return out;
}

/** `# text` lines. */
export function commentLines(lines: readonly string[]): string[] {
  return lines.map((l) => `#${commentText(l)}`);
}

function keyLines(item: Extract<TomlItem, { kind: "key" }>): string[] {
  const out = commentLines(item.comments);
  const head = `${tomlKey(item.key)} = `;
  const inline = head + tomlValue(item.value);
  // One trailing comment fits on the key's line; several go above it.
  const trailing = item.trailing.length === 1 ? `  #${commentText(item.trailing[0])}` : "";
  if (item.trailing.length > 1) out.push(...commentLines(item.trailing));
  if (Array.isArray(item.value) && inline.length > ARRAY_LINE_LIMIT) {
    out.push(`${head}[${trailing}`);
    for (const v of item.value) out.push(`  ${tomlValue(v)},`);
    out.push("]");
  } else {
    out.push(inline + trailing);
  }
  return out;
}

/** Renders sections in order, a blank line between them. */
export function renderToml(sections: readonly TomlSection[]): string {
  const blocks: string[] = [];
  for (const s of sections) {
    const lines = commentLines(s.comments);
    if (s.header) {
      const trailing = s.trailing.length > 0 ? `  #${commentText(s.trailing.join(" #"))}` : "";
      lines.push(s.header + trailing);
    }
    for (const item of s.items) {
      lines.push(...(item.kind === "key" ? keyLines(item) : commentLines(item.lines)));
    }
    if (lines.length > 0) blocks.push(lines.join("\n"));
  }
  return blocks.join("\n\n") + "\n";
}
