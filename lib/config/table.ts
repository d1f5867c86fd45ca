/**
 * Reads the keys of one TOML table against the schema: unknown keys (with "did you
 * mean"), keys written in the wrong table, required keys, and each value's parser.
 * Sub-tables (`[admin]`, `[[server]]`…) are left to the caller.
 * @module
 */

import { findKey, keysFor, type TableName } from "./schema.ts";
import { type KeyEnv, parseValue } from "./kinds.ts";
import type { KeyPath } from "./locate.ts";
import type { Reporter } from "./report.ts";
import { didYouMean } from "./suggest.ts";

/** The outcome of reading a table. */
export interface TableRead {
  /** Successfully parsed values by key. */
  values: Map<string, unknown>;
  /** Keys that were written, valid or not (an invalid one must not fall back to a default). */
  present: Set<string>;
}

/** Where a table is, for messages. */
export function describeTable(table: TableName, index?: number): string {
  switch (table) {
    case "top":
      return "at the top level";
    case "server":
      return `in [[server]] #${(index ?? 0) + 1}`;
    case "static_auth.user":
      return `in [[static_auth.user]] #${(index ?? 0) + 1}`;
    case "upstream":
      return `in [[upstream]] #${(index ?? 0) + 1}`;
    default:
      return `in [${table}]`;
  }
}

/** Reads one table's keys; values that fail to parse are reported and left out of `values`. */
export function readTable(
  table: Record<string, unknown>,
  name: TableName,
  path: KeyPath,
  where: string,
  baseDir: string,
  rep: Reporter,
): TableRead {
  const read: TableRead = { values: new Map(), present: new Set() };
  for (const [key, value] of Object.entries(table)) {
    const spec = findKey(name, key);
    const keyPath = [...path, key];
    if (!spec) {
      rep.error(keyPath, unknownKey(key, name, where));
      continue;
    }
    read.present.add(key);
    if (spec.kind === "table" || spec.kind === "table_array") continue;
    const env: KeyEnv = {
      spec,
      where,
      baseDir,
      invalid: (detail, sub = []) => rep.error([...keyPath, ...sub], `"${key}" ${where}: ${detail}`),
      error: (message, sub = []) => rep.error([...keyPath, ...sub], message),
      warn: (message, sub = []) => rep.warn([...keyPath, ...sub], message),
    };
    const parsed = parseValue(value, env);
    if (parsed !== undefined) read.values.set(key, parsed);
  }
  for (const spec of keysFor(name)) {
    // A server's missing listen gets nginx's own message from the server checks.
    if (spec.required && spec.context !== "server" && !read.present.has(spec.name)) {
      rep.error(path, `missing required key "${spec.name}" ${where}`);
    }
  }
  return read;
}

const TABLES: TableName[] = [
  "top",
  "server",
  "admin",
  "log",
  "static_auth",
  "static_auth.user",
  "upstream",
  "upstream.server",
];

function placeOf(table: TableName): string {
  if (table === "top") return "at the top level";
  if (table === "server" || table === "static_auth.user" || table === "upstream") return `in [[${table}]]`;
  if (table === "upstream.server") return "in an [[upstream]] server";
  return `in [${table}]`;
}

function unknownKey(key: string, table: TableName, where: string): string {
  if (table === "top" && key === "mail") {
    return "there is no [mail] table: mail-level keys go at the top level of the file, before the first " +
      "[[server]] or other table";
  }
  if (table === "server" && findKey("top", key)?.context === "top") {
    return `"${key}" is only allowed at the top level (keys after a [[server]] header belong to that ` +
      "server; move it above the first [[server]])";
  }
  if (table === "top" && findKey("server", key)?.context === "server") {
    return `"${key}" is only allowed in a [[server]] table`;
  }
  const homes = TABLES.filter((t) => t !== table && (findKey(t, key)?.kind ?? "removed") !== "removed");
  // A mail-level key is valid in both "top" and "server"; name it once.
  if (homes.includes("top") && homes.includes("server")) homes.splice(homes.indexOf("server"), 1);
  if (homes.length > 0) {
    return `unknown key "${key}" ${where} (it belongs ${homes.map(placeOf).join(" or ")})`;
  }
  const candidates = keysFor(table).filter((k) => k.kind !== "removed").map((k) => k.name);
  return `unknown key "${key}" ${where}${didYouMean(key, candidates)}`;
}
