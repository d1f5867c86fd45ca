/**
 * One parser per {@link ValueKind}: turns the TOML value of a key into its resolved form
 * (ms, bytes, absolute paths, parsed listens…). Parsers report every problem they find
 * through {@link KeyEnv} and return `undefined` when the value is unusable.
 * @module
 */

import { isAbsolute, resolve } from "node:path";
import { isPasswordHash } from "../util/phc_scrypt.ts";
import type { MailProtocol } from "../types.ts";
import type { KeySpec, ValueKind } from "./schema.ts";
import type { BackendRef, HealthCheckConfig, LimitRuleConfig } from "./types.ts";
import { checkRealIpEntry, checkResolverAddress, parseBackend } from "./addr.ts";
import { type AccessAction, type AccessRule, parseAccessRule } from "../access/mod.ts";
import { parseAuthHttpUrl } from "./auth_http_url.ts";
import { fileProblem } from "./files.ts";
import { parseListen } from "./listen.ts";
import type { KeyPath } from "./locate.ts";
import { didYouMean } from "./suggest.ts";
import { MAX_TIMER_MS, parseDuration, parseSize } from "./values.ts";
import { type ErrorLogTarget, parseErrorLog } from "./error_log.ts";
import { accessSync, closeSync, constants, existsSync, openSync, statSync } from "node:fs";
import { dirname } from "node:path";

/** What a parser needs to know about the key it reads and where to report. */
export interface KeyEnv {
  spec: KeySpec;
  /** Where the key is, for messages: `at the top level`, `in [[server]] #2`. */
  where: string;
  /** Directory that relative paths are resolved against. */
  baseDir: string;
  /** Reports a bad value as `"key" WHERE: DETAIL`; `sub` locates an array element or inline key. */
  invalid(detail: string, sub?: KeyPath): void;
  /** Reports a message that names the key itself. */
  error(message: string, sub?: KeyPath): void;
  /** Reports a non-fatal finding. */
  warn(message: string, sub?: KeyPath): void;
}

type Parser = (value: unknown, env: KeyEnv) => unknown;

/** A short description of a TOML value's type, for "expected X, got Y" messages. */
export function describe(value: unknown): string {
  if (typeof value === "string") return `the string "${value}"`;
  if (typeof value === "boolean") return `${value}`;
  if (typeof value === "number") {
    return Number.isInteger(value) ? `the integer ${value}` : `the float ${value}`;
  }
  if (typeof value === "bigint") return `the integer ${value}`;
  if (Array.isArray(value)) return "an array";
  if (value instanceof Date) return "a date";
  if (value !== null && typeof value === "object") return "a table";
  return String(value);
}

function isTable(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) && !(value instanceof Date);
}

/** A string or an array of strings, as list keys accept; reports other shapes. */
function stringList(
  value: unknown,
  env: KeyEnv,
  what = "a string or an array of strings",
): string[] | undefined {
  if (typeof value === "string") return [value];
  if (!Array.isArray(value)) {
    env.invalid(`expected ${what}, got ${describe(value)}`);
    return undefined;
  }
  let ok = true;
  value.forEach((item, i) => {
    if (typeof item !== "string") {
      env.invalid(`expected a string, got ${describe(item)}`, [i]);
      ok = false;
    }
  });
  return ok ? value as string[] : undefined;
}

/**
 * The words of a string list, each with the path of its array item (undefined for a
 * lone string): nginx writes several values space-separated on one line, so one
 * string may hold several.
 */
function listWords(list: string[], value: unknown): { word: string; sub: KeyPath | undefined }[] {
  return list.flatMap((item, i) =>
    item.trim().split(/\s+/).filter((w) => w !== "").map((word) => ({
      word,
      sub: Array.isArray(value) ? [i] : undefined,
    }))
  );
}

function singleLine(text: string, env: KeyEnv, sub?: KeyPath): boolean {
  if (text.trim() === "") {
    env.invalid("must not be empty", sub);
    return false;
  }
  // These values end up in protocol lines and HTTP headers, where a line break would inject.
  if (/[\r\n\0]/.test(text)) {
    env.invalid("must not contain line breaks or NUL", sub);
    return false;
  }
  return true;
}

function absolutePath(path: string, env: KeyEnv, sub?: KeyPath): string | undefined {
  if (!singleLine(path, env, sub)) return undefined;
  const full = isAbsolute(path) ? path : resolve(env.baseDir, path);
  const problem = fileProblem(full);
  if (problem !== null) {
    env.error(`${env.spec.name} "${full}": ${problem}`, sub);
    return undefined;
  }
  return full;
}

function nginxOnOff(value: unknown, env: KeyEnv): boolean {
  if (typeof value === "string" && /^(on|off)$/i.test(value)) {
    env.invalid(`"${value}" is nginx syntax; use true/false (without quotes)`);
    return true;
  }
  return false;
}

const duration: Parser = (value, env) => {
  if (typeof value === "number" && Number.isInteger(value) && value >= 0) {
    if (value * 1000 <= MAX_TIMER_MS) return value * 1000;
    env.invalid(`${value} seconds is too long (at most 24 days)`);
    return undefined;
  }
  if (typeof value === "string") {
    const parsed = parseDuration(value);
    if (parsed.ok) return parsed.value;
    env.invalid(parsed.error);
    return undefined;
  }
  env.invalid(`expected a duration like "60s" or a number of seconds, got ${describe(value)}`);
  return undefined;
};

function bounded(value: number, env: KeyEnv, unit: string, raw: unknown): number | undefined {
  const { min, max } = env.spec;
  if (min !== undefined && value < min) env.invalid(`${describe(raw)} is too small (at least ${min}${unit})`);
  else if (max !== undefined && value > max) {
    env.invalid(`${describe(raw)} is too large (at most ${max}${unit})`);
  } else return value;
  return undefined;
}

const size: Parser = (value, env) => {
  if (typeof value === "number" && Number.isInteger(value) && value >= 0) {
    return bounded(value, env, " bytes", value);
  }
  if (typeof value === "string") {
    const parsed = parseSize(value);
    if (parsed.ok) return bounded(parsed.value, env, " bytes", value);
    env.invalid(parsed.error);
    return undefined;
  }
  env.invalid(`expected a size like "4k" or a number of bytes, got ${describe(value)}`);
  return undefined;
};

const bool: Parser = (value, env) => {
  if (typeof value === "boolean") return value;
  if (!nginxOnOff(value, env)) env.invalid(`expected true or false, got ${describe(value)}`);
  return undefined;
};

const int: Parser = (value, env) => {
  if (typeof value === "number" && Number.isInteger(value)) return bounded(value, env, "", value);
  env.invalid(`expected an integer, got ${describe(value)}`);
  return undefined;
};

const string: Parser = (value, env) => {
  if (typeof value !== "string") {
    env.invalid(`expected a string, got ${describe(value)}`);
    return undefined;
  }
  return singleLine(value, env) ? value : undefined;
};

const path: Parser = (value, env) => {
  if (typeof value !== "string") {
    env.invalid(`expected a file path (a string), got ${describe(value)}`);
    return undefined;
  }
  return absolutePath(value, env);
};

const pathList: Parser = (value, env) => {
  const list = stringList(value, env);
  if (!list) return undefined;
  const sub = (i: number) => Array.isArray(value) ? [i] : undefined;
  const out = list.map((p, i) => absolutePath(p, env, sub(i)));
  return out.every((p) => p !== undefined) ? out : undefined;
};

const words: Parser = (value, env) => {
  const list = stringList(value, env);
  if (!list) return undefined;
  return list.every((w, i) => singleLine(w, env, Array.isArray(value) ? [i] : undefined)) ? list : undefined;
};

const enumeration: Parser = (value, env) => {
  const values = env.spec.values ?? [];
  const aliases = env.spec.boolAliases;
  const expected = values.map((v) => `"${v}"`).join(", ") +
    (aliases ? ` (or ${aliases[0]} = false, true)` : "");
  if (typeof value === "boolean" && aliases) return aliases[value ? 1 : 0];
  if (typeof value === "string") {
    const hit = values.find((v) => v.toLowerCase() === value.toLowerCase());
    if (hit !== undefined) return hit;
    if (aliases && /^(on|off)$/i.test(value)) {
      env.invalid(`"${value}" is nginx syntax; use true/false (without quotes)`);
      return undefined;
    }
    env.invalid(`invalid value "${value}" (expected one of ${expected})${didYouMean(value, values)}`);
    return undefined;
  }
  env.invalid(`expected one of ${expected}, got ${describe(value)}`);
  return undefined;
};

const authMethods: Parser = (value, env) => {
  const list = stringList(value, env);
  if (!list) return undefined;
  const allowed = env.spec.values ?? [];
  if (list.length === 0) {
    env.invalid(`needs at least one method (${allowed.join(", ")})`);
    return undefined;
  }
  const out: string[] = [];
  let ok = true;
  list.forEach((name, i) => {
    const sub = Array.isArray(value) ? [i] : undefined;
    const method = name.toLowerCase();
    if (!allowed.includes(method)) {
      env.invalid(
        `unknown method "${name}" (allowed: ${allowed.join(", ")})${didYouMean(name, allowed)}`,
        sub,
      );
      ok = false;
    } else if (out.includes(method)) {
      env.warn(`"${env.spec.name}" ${env.where}: method "${method}" is listed twice`, sub);
    } else {
      out.push(method);
    }
  });
  return ok ? out : undefined;
};

const listen: Parser = (value, env) => {
  const list = stringList(value, env);
  if (!list) return undefined;
  const specs = [];
  let ok = true;
  for (const [i, raw] of list.entries()) {
    const sub = Array.isArray(value) ? [i] : undefined;
    const parsed = parseListen(raw, env.baseDir);
    for (const e of parsed.errors) env.invalid(`${e} (in "${raw}")`, sub);
    for (const w of parsed.warnings) env.warn(`"listen" ${env.where}: ${w}`, sub);
    ok &&= parsed.errors.length === 0;
    specs.push(...parsed.specs);
  }
  return ok ? specs : undefined;
};

const listenOne: Parser = (value, env) => {
  if (typeof value !== "string") {
    env.invalid(`expected one address string like "127.0.0.1:8080", got ${describe(value)}`);
    return undefined;
  }
  const parsed = parseListen(value, env.baseDir);
  for (const e of parsed.errors) env.invalid(e);
  if (parsed.errors.length > 0) return undefined;
  const [spec, ...more] = parsed.specs;
  const extra = Object.keys(spec).filter((k) =>
    !["raw", "transport", "host", "port", "ssl", "proxy_protocol"].includes(k)
  );
  if (more.length > 0) env.invalid("a port range is not allowed here");
  else if (spec.ssl || spec.proxy_protocol || extra.length > 0) {
    env.invalid("listen options are not supported here");
  } else return spec;
  return undefined;
};

const authHttp: Parser = (value, env) => {
  if (typeof value !== "string") {
    env.invalid(`expected a URL string like "http://127.0.0.1:9000/auth", got ${describe(value)}`);
    return undefined;
  }
  const parsed = parseAuthHttpUrl(value, env.baseDir);
  if (parsed.ok) return parsed.value;
  env.invalid(parsed.error);
  return undefined;
};

const headers: Parser = (value, env) => {
  if (!isTable(value)) {
    env.invalid(`expected a table like { X-Auth-Key = "secret" }, got ${describe(value)}`);
    return undefined;
  }
  const out: [string, string][] = [];
  let ok = true;
  for (const [name, text] of Object.entries(value)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      env.invalid(`invalid header name "${name}"`, [name]);
      ok = false;
    } else if (typeof text !== "string") {
      env.invalid(`header "${name}": expected a string, got ${describe(text)}`, [name]);
      ok = false;
    } else if (/[\r\n\0]/.test(text)) {
      env.invalid(`header "${name}": value must not contain line breaks or NUL`, [name]);
      ok = false;
    } else {
      out.push([name, text]);
    }
  }
  return ok ? out : undefined;
};

const resolver: Parser = (value, env) => {
  if (value === false) return false;
  if (value === true || (typeof value === "string" && /^(on|off)$/i.test(value))) {
    env.invalid(`use false to turn the resolver off, or a list of DNS server addresses`);
    return undefined;
  }
  const list = stringList(value, env, "false or DNS server addresses");
  if (!list) return undefined;
  const out: string[] = [];
  let ok = true;
  for (const { word, sub } of listWords(list, value)) {
    const problem = /^[a-z_]+=/.test(word)
      ? `resolver option "${word}" is not supported by mailproxy (only addresses)`
      : checkResolverAddress(word);
    if (problem === null) out.push(word);
    else {
      env.invalid(problem, sub);
      ok = false;
    }
  }
  if (ok && out.length === 0) env.invalid("needs at least one address (or false for off)");
  return ok && out.length > 0 ? out : undefined;
};

const realIpList: Parser = (value, env) => {
  const list = stringList(value, env);
  if (!list) return undefined;
  let ok = true;
  list.forEach((entry, i) => {
    const sub = Array.isArray(value) ? [i] : undefined;
    const { error, warning } = checkRealIpEntry(entry.trim());
    if (error) {
      env.invalid(error, sub);
      ok = false;
    }
    if (warning) env.warn(`"${env.spec.name}" ${env.where}: ${warning}`, sub);
  });
  return ok ? list.map((e) => e.trim()) : undefined;
};

const TLS_VERSIONS = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];

const sslProtocols: Parser = (value, env) => {
  const list = stringList(value, env);
  if (!list) return undefined;
  const out: string[] = [];
  let ok = true;
  for (const { word, sub } of listWords(list, value)) {
    const hit = TLS_VERSIONS.find((v) => v.toLowerCase() === word.toLowerCase());
    if (hit !== undefined) {
      if (!out.includes(hit)) out.push(hit);
    } else if (/^sslv[23]$/i.test(word)) {
      env.invalid(`"${word}" is not supported by mailproxy (the TLS runtime has no SSLv2/SSLv3)`, sub);
      ok = false;
    } else {
      env.invalid(`unknown protocol "${word}" (allowed: ${TLS_VERSIONS.join(", ")})`, sub);
      ok = false;
    }
  }
  if (ok && out.length === 0) env.invalid("needs at least one protocol");
  return ok && out.length > 0 ? out : undefined;
};

const sslSessionCache: Parser = (value, env) => {
  if (typeof value !== "string") {
    env.invalid(`expected a string like "none" or "shared:MAIL:10m", got ${describe(value)}`);
    return undefined;
  }
  const words = value.trim().split(/\s+/);
  if (words.length === 1 && (words[0] === "off" || words[0] === "none")) return words[0];
  for (const word of words) {
    const builtin = /^builtin(?::(\d+))?$/.exec(word);
    const shared = /^shared:([^:]+):(.+)$/.exec(word);
    if (builtin && (builtin[1] === undefined || Number(builtin[1]) > 0)) continue;
    if (shared) {
      const bytes = parseSize(shared[2]);
      if (bytes.ok && bytes.value >= 8 * 4096) continue;
      env.invalid(`session cache "${word}" is too small or invalid (at least 32k)`);
      return undefined;
    }
    env.invalid(`invalid session cache "${word}" (expected off, none, builtin[:N] and/or shared:NAME:SIZE)`);
    return undefined;
  }
  return words.join(" ");
};

const workers: Parser = (value, env) => {
  if (value === "auto") return "auto";
  if (typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 1024) return value;
  env.invalid(`expected "auto" or an integer from 1 to 1024, got ${describe(value)}`);
  return undefined;
};

/**
 * `access`: an array whose order is the evaluation order. Each entry is a table with
 * one key, `{ allow = ADDR }` or `{ deny = ADDR }` (ADDR may be a list), or the
 * nginx-like string `"allow ADDR"` / `"deny ADDR"`.
 */
const accessList: Parser = (value, env) => {
  if (!Array.isArray(value)) {
    env.invalid(
      `expected an array like [{ allow = "10.0.0.0/8" }, { deny = "all" }], got ${describe(value)}`,
    );
    return undefined;
  }
  const rules: AccessRule[] = [];
  let ok = true;
  const add = (action: AccessAction, text: unknown, sub: KeyPath) => {
    if (typeof text !== "string") {
      env.invalid(`expected an address string, got ${describe(text)}`, sub);
      ok = false;
      return;
    }
    const parsed = parseAccessRule(action, text);
    if (!parsed.ok) {
      env.invalid(parsed.error, sub);
      ok = false;
      return;
    }
    if (parsed.warning) env.warn(`"${env.spec.name}" ${env.where}: ${parsed.warning}`, sub);
    rules.push(parsed.rule);
  };
  value.forEach((entry, i) => {
    if (typeof entry === "string") {
      const m = /^\s*(allow|deny)\s+(\S+)\s*$/.exec(entry);
      if (m) return add(m[1] as AccessAction, m[2], [i]);
      env.invalid(`expected "allow ADDR" or "deny ADDR", got "${entry}"`, [i]);
      ok = false;
      return;
    }
    const keys = isTable(entry) ? Object.keys(entry) : [];
    if (!isTable(entry) || keys.length !== 1 || (keys[0] !== "allow" && keys[0] !== "deny")) {
      env.invalid('each entry must be { allow = "ADDR" } or { deny = "ADDR" } (one key)', [i]);
      ok = false;
      return;
    }
    const action = keys[0] as AccessAction;
    const target = entry[action];
    if (Array.isArray(target)) target.forEach((t, j) => add(action, t, [i, action, j]));
    else add(action, target, [i, action]);
  });
  return ok ? rules : undefined;
};

const PROTOCOLS: MailProtocol[] = ["imap", "pop3", "smtp", "sieve"];

const backend: Parser = (value, env) => {
  const one = (text: unknown, sub?: KeyPath): BackendRef | undefined => {
    if (typeof text !== "string") {
      env.invalid(`expected "ip:port" or "upstream:NAME", got ${describe(text)}`, sub);
      return undefined;
    }
    const upstream = /^upstream:(.*)$/.exec(text);
    if (upstream) {
      if (upstream[1].trim() !== "") return { upstream: upstream[1].trim() };
      env.invalid(`"upstream:" needs an upstream name ("upstream:NAME")`, sub);
      return undefined;
    }
    const parsed = parseBackend(text);
    if (parsed.ok) return parsed.value;
    env.invalid(parsed.error, sub);
    return undefined;
  };
  if (typeof value === "string") {
    const hp = one(value);
    return hp && { imap: hp, pop3: hp, smtp: hp, sieve: hp };
  }
  if (!isTable(value)) {
    env.invalid(`expected "ip:port" or a table { imap = "ip:port", ... }, got ${describe(value)}`);
    return undefined;
  }
  const out: Partial<Record<MailProtocol, BackendRef>> = {};
  let ok = true;
  for (const [key, text] of Object.entries(value)) {
    if (!(PROTOCOLS as string[]).includes(key)) {
      env.invalid(
        `unknown protocol "${key}" (expected imap, pop3, smtp, sieve)${didYouMean(key, PROTOCOLS)}`,
        [
          key,
        ],
      );
      ok = false;
      continue;
    }
    const hp = one(text, [key]);
    if (hp) out[key as MailProtocol] = hp;
    else ok = false;
  }
  return ok ? out : undefined;
};

const backendAddress: Parser = (value, env) => {
  if (typeof value !== "string") {
    env.invalid(`expected "ip:port", got ${describe(value)}`);
    return undefined;
  }
  const parsed = parseBackend(value);
  if (parsed.ok) return parsed.value;
  env.invalid(parsed.error);
  return undefined;
};

const HEALTH_CHECK_KEYS = ["interval", "timeout", "fails", "passes"];

/** `{ interval, timeout, fails, passes }`; missing keys keep their defaults. */
const healthCheck: Parser = (value, env) => {
  if (!isTable(value)) {
    env.invalid(
      `expected a table { interval = "5s", timeout = "2s", fails = 2, passes = 2 }, got ${describe(value)}`,
    );
    return undefined;
  }
  const out: HealthCheckConfig = { interval: 5000, timeout: 2000, fails: 2, passes: 2 };
  let ok = true;
  for (const [key, raw] of Object.entries(value)) {
    if (key === "interval" || key === "timeout") {
      const ms = typeof raw === "number" && Number.isInteger(raw) && raw >= 0
        ? raw * 1000
        : typeof raw === "string"
        ? parseDuration(raw)
        : null;
      const parsed = typeof ms === "number" ? { ok: true as const, value: ms } : ms;
      if (parsed === null) {
        env.invalid(`expected a duration like "5s", got ${describe(raw)}`, [key]);
        ok = false;
      } else if (!parsed.ok) {
        env.invalid(parsed.error, [key]);
        ok = false;
      } else if (parsed.value > MAX_TIMER_MS || (key === "timeout" && parsed.value === 0)) {
        env.invalid(`${key} ${describe(raw)} is out of range`, [key]);
        ok = false;
      } else out[key] = parsed.value;
    } else if (key === "fails" || key === "passes") {
      if (typeof raw === "number" && Number.isInteger(raw) && raw >= 1 && raw <= 100) out[key] = raw;
      else {
        env.invalid(`${key} must be an integer from 1 to 100, got ${describe(raw)}`, [key]);
        ok = false;
      }
    } else {
      env.invalid(
        `unknown key "${key}" (expected ${HEALTH_CHECK_KEYS.join(", ")})${
          didYouMean(key, HEALTH_CHECK_KEYS)
        }`,
        [
          key,
        ],
      );
      ok = false;
    }
  }
  return ok ? out : undefined;
};

/** A duration value (string or integer seconds) up to `max` ms, or an error text. */
function durationOf(raw: unknown, max: number): { ok: true; value: number } | { ok: false; error: string } {
  if (typeof raw === "number" && Number.isInteger(raw) && raw >= 0) {
    return raw * 1000 <= max
      ? { ok: true, value: raw * 1000 }
      : { ok: false, error: `${raw} seconds is too long` };
  }
  if (typeof raw === "string") return parseDuration(raw, max);
  return { ok: false, error: `expected a duration like "15m" or a number of seconds, got ${describe(raw)}` };
}

const LIMIT_RULE_KEYS = ["failures", "window", "block"];

/** `{ failures, window, block }` (all three), or `false` = not counted. */
const limitRule: Parser = (value, env) => {
  if (value === false) return null;
  if (!isTable(value)) {
    env.invalid(
      `expected a table { failures = 10, window = "10m", block = "15m" } or false, got ${describe(value)}`,
    );
    return undefined;
  }
  const out: Partial<LimitRuleConfig> = {};
  let ok = true;
  for (const [key, raw] of Object.entries(value)) {
    if (key === "failures") {
      if (typeof raw === "number" && Number.isInteger(raw) && raw >= 1 && raw <= 1_000_000) {
        out.failures = raw;
      } else {
        env.invalid(`failures must be an integer from 1 to 1000000, got ${describe(raw)}`, [key]);
        ok = false;
      }
    } else if (key === "window" || key === "block") {
      const parsed = durationOf(raw, MAX_TIMER_MS);
      if (!parsed.ok) {
        env.invalid(parsed.error, [key]);
        ok = false;
      } else if (parsed.value === 0) {
        env.invalid(`${key} must be longer than 0`, [key]);
        ok = false;
      } else out[key] = parsed.value;
    } else {
      env.invalid(
        `unknown key "${key}" (expected ${LIMIT_RULE_KEYS.join(", ")})${didYouMean(key, LIMIT_RULE_KEYS)}`,
        [key],
      );
      ok = false;
    }
  }
  for (const key of LIMIT_RULE_KEYS) {
    if (ok && !(key in out)) {
      env.invalid(`missing "${key}" (write { failures = 10, window = "10m", block = "15m" })`);
      ok = false;
    }
  }
  return ok ? out as LimitRuleConfig : undefined;
};

const durationList: Parser = (value, env) => {
  if (!Array.isArray(value)) {
    env.invalid(`expected an array of durations like ["2s", "4s"], got ${describe(value)}`);
    return undefined;
  }
  const out: number[] = [];
  let ok = true;
  value.forEach((raw, i) => {
    const parsed = durationOf(raw, MAX_TIMER_MS);
    if (parsed.ok) out.push(parsed.value);
    else {
      env.invalid(parsed.error, [i]);
      ok = false;
    }
  });
  return ok ? out : undefined;
};

const cidrList: Parser = (value, env) => {
  const list = stringList(value, env);
  if (!list) return undefined;
  let ok = true;
  list.forEach((entry, i) => {
    const parsed = entry.trim() === "all" || entry.trim() === "unix:"
      ? { ok: false as const, error: `"${entry}" is not an IP address or CIDR` }
      : parseAccessRule("allow", entry);
    if (!parsed.ok) {
      env.invalid(parsed.error, Array.isArray(value) ? [i] : undefined);
      ok = false;
    }
  });
  return ok ? list.map((e) => e.trim()) : undefined;
};

/** Ten years: an age compared with timestamps, never armed as a timer. */
const MAX_AGE_MS = 10 * 365 * 86_400_000;

const age: Parser = (value, env) => {
  const parsed = durationOf(value, MAX_AGE_MS);
  if (parsed.ok) return parsed.value;
  env.invalid(parsed.error);
  return undefined;
};

const passwordHash: Parser = (value, env) => {
  // Never echo the value: it may be a plaintext password.
  if (typeof value !== "string") {
    env.invalid(`expected a "$scrypt$..." hash string, got ${typeof value}`);
    return undefined;
  }
  if (isPasswordHash(value)) return value;
  if (value.startsWith("$scrypt$")) {
    env.invalid(
      'malformed "$scrypt$" hash (parameters, salt or hash); make a new one with `mailproxy hash-password`',
    );
  } else if (value.startsWith("$")) {
    env.invalid('unsupported hash format; run `mailproxy hash-password` to make a "$scrypt$..." hash');
  } else {
    env.invalid(
      'plaintext passwords are not accepted; run `mailproxy hash-password` and paste the "$scrypt$..." hash',
    );
  }
  return undefined;
};

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

const unsupported: Parser = (value, env) => {
  const { accept, reason, name } = env.spec;
  if (accept !== undefined && sameValue(value, accept)) return value;
  env.error(`"${name}" is not supported by mailproxy: ${reason}`);
  return undefined;
};

const removed: Parser = (_value, env) => {
  env.error(`"${env.spec.name}" ${env.spec.reason}`);
  return undefined;
};

const notAValue: Parser = (_value, env) => {
  throw new Error(`kinds: "${env.spec.name}" is a table and has no value parser`);
};

/** `ssl_sni`: `[[server.ssl_sni]]` tables, each a host name and its certificate/key files. */
const sni: Parser = (value, env) => {
  if (!Array.isArray(value)) {
    env.invalid(
      `expected [[ssl_sni]] tables (name, ssl_certificate, ssl_certificate_key), got ${describe(value)}`,
    );
    return undefined;
  }
  const out: { name: string; ssl_certificate: string[]; ssl_certificate_key: string[] }[] = [];
  let ok = true;
  value.forEach((entry, i) => {
    if (!isTable(entry)) {
      env.invalid(`expected a table, got ${describe(entry)}`, [i]);
      ok = false;
      return;
    }
    for (const key of Object.keys(entry)) {
      if (!["name", "ssl_certificate", "ssl_certificate_key"].includes(key)) {
        env.invalid(`unknown key "${key}" (allowed: name, ssl_certificate, ssl_certificate_key)`, [i, key]);
        ok = false;
      }
    }
    const name = entry.name;
    if (typeof name !== "string" || !/^(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/.test(name)) {
      env.invalid(`"name" must be a host name or "*.domain", got ${describe(name)}`, [i, "name"]);
      ok = false;
    }
    const sub = (key: string): KeyEnv => ({
      ...env,
      invalid: (detail, path) => env.invalid(`${key}: ${detail}`, [i, key, ...(path ?? [])]),
    });
    const certs = pathList(entry.ssl_certificate ?? [], sub("ssl_certificate")) as string[] | undefined;
    const keys = pathList(entry.ssl_certificate_key ?? [], sub("ssl_certificate_key")) as
      | string[]
      | undefined;
    if (!certs || !keys) {
      ok = false;
      return;
    }
    if (certs.length === 0 || certs.length > keys.length) {
      env.invalid(`needs ssl_certificate and one ssl_certificate_key per certificate`, [i]);
      ok = false;
      return;
    }
    if (typeof name === "string") out.push({ name, ssl_certificate: certs, ssl_certificate_key: keys });
  });
  return ok ? out : undefined;
};

/** `error_log`: each entry parsed; a file must be writable (or creatable) now, as nginx -t opens it. */
const errorLog: Parser = (value, env) => {
  const entries = stringList(value, env);
  if (entries === undefined) return undefined;
  if (entries.length === 0) {
    env.invalid("needs at least one target");
    return undefined;
  }
  const out: ErrorLogTarget[] = [];
  let ok = true;
  entries.forEach((entry, i) => {
    const sub = Array.isArray(value) ? [i] : [];
    const parsed = parseErrorLog(entry, env.baseDir);
    if (!parsed.ok) {
      env.invalid(parsed.error, sub);
      ok = false;
      return;
    }
    if (parsed.target.type === "syslog" && parsed.target.transport === "unix") {
      // Not an error: the syslog daemon may start after mailproxy; lines are dropped until it does.
      if (!existsSync(parsed.target.path)) {
        env.warn(
          `"${env.spec.name}" ${env.where}: ${parsed.target.path} does not exist (no local syslog daemon?)`,
          sub,
        );
      }
    }
    if (parsed.target.type === "file") {
      const problem = logFileProblem(parsed.target.path);
      if (problem) {
        env.invalid(`"${parsed.target.path}": ${problem}`, sub);
        ok = false;
        return;
      }
    }
    out.push(parsed.target);
  });
  return ok ? out : undefined;
};

/**
 * Whether the log file can be written: an existing file is opened for appending (as
 * nginx -t opens its logs; a permission check by mode bits would be wrong for root), a
 * missing one needs a writable directory.
 */
function logFileProblem(path: string): string | null {
  try {
    const stat = statSync(path, { throwIfNoEntry: false });
    if (stat?.isDirectory()) return "is a directory";
    if (stat) closeSync(openSync(path, "a"));
    else accessSync(dirname(path), constants.W_OK);
    return null;
  } catch (e) {
    const code = (e as { code?: string }).code;
    return code === "ENOENT"
      ? "the directory does not exist"
      : code === "EACCES" || code === "EPERM"
      ? "not writable"
      : e instanceof Error
      ? e.message
      : String(e);
  }
}

const PARSERS: Record<ValueKind, Parser> = {
  duration,
  size,
  bool,
  int,
  string,
  path,
  path_list: pathList,
  string_list: words,
  enum: enumeration,
  auth_methods: authMethods,
  listen,
  listen_one: listenOne,
  auth_http: authHttp,
  headers,
  resolver,
  real_ip_list: realIpList,
  access_list: accessList,
  ssl_protocols: sslProtocols,
  ssl_session_cache: sslSessionCache,
  sni,
  workers,
  backend,
  backend_address: backendAddress,
  health_check: healthCheck,
  limit_rule: limitRule,
  duration_list: durationList,
  cidr_list: cidrList,
  age,
  password_hash: passwordHash,
  error_log: errorLog,
  unsupported,
  removed,
  table: notAValue,
  table_array: notAValue,
};

/** Parses a key's TOML value according to its kind; `undefined` means errors were reported. */
export function parseValue(value: unknown, env: KeyEnv): unknown {
  const parsed = PARSERS[env.spec.kind](value, env);
  if (parsed !== undefined && env.spec.warning) env.warn(`"${env.spec.name}" ${env.spec.warning}`);
  return parsed;
}
