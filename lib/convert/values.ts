/**
 * Turns one directive's arguments into the TOML value of its key, by the key's kind
 * (`on`/`off` → booleans, word lists → arrays, `auth_http_header` → a table entry…),
 * then validates it with the loader's own parser for that kind, so the converter and
 * `mailproxy --check` agree on what is valid.
 * @module
 */

import { isAbsolute, join } from "node:path";
import { type KeyEnv, parseValue } from "../config/mod.ts";
import type { KeySpec, TomlValue, ValueKind } from "../config/mod.ts";

/** Kinds whose directive may repeat at one level, the entries accumulating in order (spec §1.1). */
export const REPEATABLE: ReadonlySet<ValueKind> = new Set([
  "string_list",
  "auth_methods",
  "headers",
  "real_ip_list",
  "path_list",
  "listen",
  "access_list",
  "error_log",
]);

/** Kinds that check files on disk: validated later by the loader, not here (no I/O). */
const FILE_KINDS: ReadonlySet<ValueKind> = new Set(["path", "path_list", "error_log"]);

/** Kinds taking a list of words. */
const LIST_KINDS: ReadonlySet<ValueKind> = new Set([
  "string_list",
  "auth_methods",
  "real_ip_list",
  "ssl_protocols",
  "resolver",
]);

/** A directive's value, or why it cannot be converted; warnings become notes. */
export type ValueResult = { ok: true; value: TomlValue; warnings: string[] } | {
  ok: false;
  errors: string[];
};

const ON_OFF = /^(on|off)$/i;

function onOff(word: string): TomlValue {
  return ON_OFF.test(word) ? word.toLowerCase() === "on" : word;
}

function arity(kind: ValueKind, count: number): boolean {
  if (kind === "headers") return count === 2;
  if (kind === "access_list") return count === 1;
  if (kind === "error_log") return count === 1 || count === 2;
  if (LIST_KINDS.has(kind) || kind === "listen" || kind === "ssl_session_cache" || kind === "unsupported") {
    return count >= 1;
  }
  return count === 1;
}

/** The TOML value nginx's arguments stand for, before validation. */
function candidate(spec: KeySpec, name: string, args: string[], baseDir: string): TomlValue {
  const path = (p: string) => isAbsolute(p) ? p : join(baseDir, p);
  switch (spec.kind) {
    case "bool":
      return onOff(args[0]);
    case "enum":
      return spec.boolAliases ? onOff(args[0]) : args[0];
    case "int":
    case "workers":
      return /^\d{1,15}$/.test(args[0]) ? Number(args[0]) : args[0];
    case "path":
      return path(args[0]);
    case "path_list":
      return [path(args[0])];
    case "listen":
      return [args.join(" ")];
    case "error_log": {
      // nginx resolves a relative file against its prefix; mailproxy, like every other path, against nginx.conf's directory.
      const [target, ...level] = args;
      const special = target === "stderr" || target.includes(":");
      return [[special ? target : path(target), ...level].join(" ")];
    }
    case "headers":
      return { [args[0]]: args[1] };
    case "access_list":
      // allow/deny share one ordered list: the directive's name is the rule's action.
      return [{ [name]: args[0] }];
    case "resolver":
      return args.length === 1 && args[0].toLowerCase() === "off" ? false : args;
    case "ssl_session_cache":
      return args.join(" ");
    case "unsupported":
      return args.length === 1 ? onOff(args[0]) : args.join(" ");
    default:
      return LIST_KINDS.has(spec.kind) ? args : args[0];
  }
}

/** Converts and validates the arguments of directive `name` for key `spec`. */
export function convertValue(
  spec: KeySpec,
  name: string,
  args: string[],
  baseDir: string,
  where: string,
): ValueResult {
  if (!arity(spec.kind, args.length)) {
    return { ok: false, errors: [`invalid number of arguments in "${name}" directive`] };
  }
  const value = candidate(spec, name, args, baseDir);
  if (FILE_KINDS.has(spec.kind)) return { ok: true, value, warnings: [] };
  const errors: string[] = [];
  const warnings: string[] = [];
  const env: KeyEnv = {
    spec,
    where,
    baseDir,
    invalid: (detail) => errors.push(detail),
    error: (message) => errors.push(message),
    warn: (message) => warnings.push(message),
  };
  parseValue(value, env);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value, warnings };
}
