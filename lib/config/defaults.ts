/**
 * Effective defaults, obtained by parsing each key's TOML-form default from the schema
 * with the same parsers as user values (so the documented default is the real one).
 * @module
 */

import { hostname } from "node:os";
import { findKey, type KeySpec, type TableName } from "./schema.ts";
import { type KeyEnv, parseValue } from "./kinds.ts";

const cache = new Map<KeySpec, unknown>();

/**
 * The resolved default of a key: `null` for "unset" keys, `undefined` when there is no
 * default (required, or computed later such as `protocol` and `auth`).
 */
export function defaultOf(table: TableName, name: string): unknown {
  const spec = findKey(table, name);
  if (!spec) throw new Error(`defaults: no key "${name}" in ${table}`);
  // nginx uses gethostname() when server_name is not set.
  if (spec.name === "server_name" && spec.context === "mail") return hostname();
  if (spec.default === undefined || spec.default === null) return spec.default;
  if (!cache.has(spec)) cache.set(spec, parseValue(spec.default, schemaEnv(spec)));
  return cache.get(spec);
}

function schemaEnv(spec: KeySpec): KeyEnv {
  const fail = (message: string): never => {
    throw new Error(`schema.ts: the default of "${spec.name}" is invalid: ${message}`);
  };
  return { spec, where: "(default)", baseDir: "/", invalid: fail, error: fail, warn: () => {} };
}
