/**
 * JSON Schema (draft 2020-12) of the TOML config, generated from `schema.ts` for editor
 * completion and validation (e.g. Taplo / Even Better TOML). The committed copy in
 * `docs/config.schema.json` is checked against this by a test.
 * @module
 */

import { CONFIG_KEYS, keysFor, type KeySpec, type TableName } from "./schema.ts";

type Json = Record<string, unknown>;

const DURATION = "^\\s*(\\d+\\s*(ms|[yMwdhms])?\\s*)+$";
const SIZE = "^\\s*\\d+\\s*[kKmMgG]?\\s*$";
const BACKEND = "^(\\[[0-9A-Fa-f:.]+\\]|[0-9.]+|localhost):\\d{1,5}$";

const stringOrList = (item: Json): Json => ({
  anyOf: [item, { type: "array", items: item }],
});

/** A pattern matching `word` in any letter case (JSON Schema regexes have no flags). */
function caseInsensitive(word: string): string {
  return [...word].map((c) =>
    /[a-z]/i.test(c) ? `[${c.toLowerCase()}${c.toUpperCase()}]` : c.replace(/[-.]/g, "\\$&")
  )
    .join("");
}

function kindSchema(spec: KeySpec): Json {
  switch (spec.kind) {
    case "duration":
      return { anyOf: [{ type: "integer", minimum: 0 }, { type: "string", pattern: DURATION }] };
    case "size":
      return {
        anyOf: [
          { type: "integer", minimum: spec.min ?? 0, ...(spec.max !== undefined && { maximum: spec.max }) },
          { type: "string", pattern: SIZE },
        ],
      };
    case "bool":
      return { type: "boolean" };
    case "int":
      return { type: "integer", minimum: spec.min, maximum: spec.max };
    case "string":
    case "path":
    case "ssl_session_cache":
      return { type: "string", minLength: 1 };
    case "path_list":
    case "string_list":
    case "real_ip_list":
    case "error_log":
      return stringOrList({ type: "string", minLength: 1 });
    case "access_list": {
      const target = stringOrList({ type: "string", minLength: 1 });
      const rule = (action: string): Json => ({
        type: "object",
        properties: { [action]: target },
        required: [action],
        additionalProperties: false,
      });
      return {
        type: "array",
        items: {
          anyOf: [rule("allow"), rule("deny"), { type: "string", pattern: "^\\s*(allow|deny)\\s+\\S+\\s*$" }],
        },
      };
    }
    case "enum":
      return spec.boolAliases
        ? { anyOf: [{ enum: spec.values }, { type: "boolean" }] }
        : { enum: spec.values };
    case "auth_methods": {
      const values = spec.values ?? [];
      const pattern = `^(${values.map(caseInsensitive).join("|")})$`;
      return stringOrList({ anyOf: [{ enum: values }, { type: "string", pattern }] });
    }
    case "listen":
      return stringOrList({ type: "string", minLength: 1 });
    case "listen_one":
      return { type: "string", minLength: 1 };
    case "auth_http":
      return { type: "string", minLength: 1, pattern: "^(?![hH][tT][tT][pP][sS]://)" };
    case "headers":
      return { type: "object", additionalProperties: { type: "string" } };
    case "resolver":
      return { anyOf: [{ const: false }, { type: "string" }, { type: "array", items: { type: "string" } }] };
    case "ssl_protocols":
      return stringOrList({ type: "string" });
    case "sni": {
      const files = stringOrList({ type: "string", minLength: 1 });
      return {
        type: "array",
        items: {
          type: "object",
          properties: {
            name: { type: "string", minLength: 1 },
            ssl_certificate: files,
            ssl_certificate_key: files,
          },
          required: ["name", "ssl_certificate", "ssl_certificate_key"],
          additionalProperties: false,
        },
      };
    }
    case "workers":
      return { anyOf: [{ const: "auto" }, { type: "integer", minimum: 1, maximum: 1024 }] };
    case "backend": {
      const one = { type: "string", pattern: BACKEND };
      return {
        anyOf: [
          one,
          {
            type: "object",
            properties: { imap: one, pop3: one, smtp: one, sieve: one },
            additionalProperties: false,
          },
        ],
      };
    }
    case "password_hash":
      return { type: "string", pattern: "^\\$scrypt\\$\\S+$" };
    case "backend_address":
      return { type: "string", pattern: BACKEND };
    case "health_check": {
      const time = { anyOf: [{ type: "integer", minimum: 0 }, { type: "string", pattern: DURATION }] };
      const count = { type: "integer", minimum: 1, maximum: 100 };
      return {
        type: "object",
        properties: { interval: time, timeout: time, fails: count, passes: count },
        additionalProperties: false,
      };
    }
    case "limit_rule": {
      const time = { anyOf: [{ type: "integer", minimum: 1 }, { type: "string", pattern: DURATION }] };
      return {
        anyOf: [{ const: false }, {
          type: "object",
          properties: {
            failures: { type: "integer", minimum: 1, maximum: 1_000_000 },
            window: time,
            block: time,
          },
          required: ["failures", "window", "block"],
          additionalProperties: false,
        }],
      };
    }
    case "duration_list":
      return {
        type: "array",
        items: { anyOf: [{ type: "integer", minimum: 0 }, { type: "string", pattern: DURATION }] },
      };
    case "age":
      return { anyOf: [{ type: "integer", minimum: 0 }, { type: "string", pattern: DURATION }] };
    case "cidr_list":
      return stringOrList({ type: "string", minLength: 1 });
    case "unsupported":
      return spec.accept === undefined ? { not: {} } : { const: spec.accept };
    case "table":
      return tableSchema(spec.name as TableName);
    case "table_array":
      return { type: "array", items: tableSchema(arrayTable(spec)) };
    case "removed":
      throw new Error("removed keys have no schema");
  }
}

/** The table each element of a `table_array` key is. */
function arrayTable(spec: KeySpec): TableName {
  if (spec.context === "static_auth") return "static_auth.user";
  if (spec.context === "upstream") return "upstream.server";
  return spec.name === "upstream" ? "upstream" : "server";
}

function describeKey(spec: KeySpec): string {
  let text = spec.doc;
  if (spec.kind === "unsupported") text = `Not supported by mailproxy: ${spec.reason}.`;
  if (spec.directive) text += ` nginx: \`${spec.directive}\``;
  if (spec.defaultDoc) text += ` Default: ${spec.defaultDoc}.`;
  return text;
}

function propertySchema(spec: KeySpec): Json {
  const out: Json = { description: describeKey(spec), ...kindSchema(spec) };
  if (spec.default !== undefined && spec.default !== null && spec.kind !== "table_array") {
    out.default = spec.default;
  }
  if (spec.warning) out.deprecated = true;
  return out;
}

function tableSchema(table: TableName): Json {
  const keys = keysFor(table).filter((k) => k.kind !== "removed");
  const required = table === "server"
    ? ["listen"]
    : keys.filter((k) => k.required && k.context === table).map((k) => k.name);
  return {
    type: "object",
    properties: Object.fromEntries(keys.map((k) => [k.name, propertySchema(k)])),
    ...(required.length > 0 && { required }),
    additionalProperties: false,
  };
}

/** The JSON Schema of the whole config file. */
export function configJsonSchema(): Record<string, unknown> {
  // Touch the table so an empty schema cannot be generated by accident.
  if (CONFIG_KEYS.length === 0) throw new Error("schema.ts has no keys");
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: "mailproxy configuration",
    description:
      "TOML configuration of mailproxy, an nginx-compatible IMAP/POP3/SMTP proxy. Keys are nginx " +
      "mail directive names; top-level keys are the nginx mail{} level and are inherited by each [[server]].",
    ...tableSchema("top"),
    required: ["server"],
  };
}

/** The schema as the exact text stored in `docs/config.schema.json`. */
export function configJsonSchemaText(): string {
  return JSON.stringify(configJsonSchema(), null, 2) + "\n";
}
