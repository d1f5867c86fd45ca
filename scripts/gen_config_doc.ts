/**
 * Writes docs/CONFIG.md, the configuration reference, from lib/config/schema.ts
 * (`deno task docs`). `tests/config_doc_test.ts` fails when the committed file differs,
 * so the reference cannot drift from the code.
 * @module
 */

import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { CONFIG_KEYS, type KeyContext, type KeySpec, type ValueKind } from "../lib/config/schema.ts";
import { directiveNames } from "../lib/convert/key_index.ts";
import { tomlValue } from "../lib/convert/toml_write.ts";

/** Section titles and what they mean, per key context (in the order keys first use them). */
const CONTEXTS: Partial<Record<KeyContext, { title: string; where: string; intro: string }>> = {
  top: {
    title: "Top level only",
    where: "top level",
    intro: "Process-wide settings; written at the top of the file, before any table.",
  },
  server: {
    title: "[[server]] only",
    where: "[[server]]",
    intro: "Settings of one virtual server (nginx `server {}` inside `mail {}`).",
  },
  mail: {
    title: "Mail level: top level and [[server]]",
    where: "top level (inherited) or [[server]]",
    intro: "nginx `mail {}`-level directives. Written at the top level they apply to every " +
      "`[[server]]`; a server that sets a key replaces the inherited value whole (lists are not merged).",
  },
  admin: { title: "[admin]", where: "[admin]", intro: "The admin HTTP API (mailproxy only)." },
  log: {
    title: "[log]",
    where: "[log]",
    intro: "The default stderr output and the line format (mailproxy only; `error_log` chooses targets).",
  },
  login_limits: {
    title: "[login_limits]",
    where: "[login_limits]",
    intro: "Failed-login delays and temporary blocks per client network and per user (mailproxy only).",
  },
  auth_cache: {
    title: "[auth_cache]",
    where: "[auth_cache]",
    intro: "Cached auth_http answers (mailproxy only).",
  },
  static_auth: {
    title: "[static_auth]",
    where: "[static_auth]",
    intro: "Built-in users instead of an auth_http server (mailproxy only).",
  },
  "static_auth.user": {
    title: "[[static_auth.user]]",
    where: "[[static_auth.user]]",
    intro: "One built-in user per table.",
  },
  upstream: {
    title: "[[upstream]]",
    where: "[[upstream]]",
    intro: "A pool of backend servers with per-user affinity, health checks, failover and drain (mailproxy " +
      "only; nginx stream `upstream` vocabulary).",
  },
  "upstream.server": {
    title: "[[upstream]] server entries",
    where: "`server = [{ ... }]` of an [[upstream]]",
    intro: "One entry per backend server of the pool.",
  },
};

/** How each value kind is written; kinds without text fall back to their name. */
const KINDS: Partial<Record<ValueKind, string>> = {
  duration: 'nginx time as a string (`"60s"`, `"500ms"`, `"1h30m"`) or an integer of seconds',
  size: 'nginx size as a string (`"4k"`, `"1m"`) or an integer of bytes',
  bool: "`true` / `false` (nginx `on` / `off`)",
  int: "integer",
  string: "string",
  path: "file path (relative to the config file's directory); must be readable",
  path_list: "file path or array of file paths (relative to the config file's directory)",
  string_list: "string or array of strings",
  enum: "one of the values below",
  auth_methods: "method name or array of method names (case-insensitive)",
  listen: 'string or array of strings: `"ADDRESS[:PORT] [options]"` as nginx `listen`',
  listen_one: '`"host:port"`, `"port"` or `"unix:/path"`',
  auth_http: "URL string: `[http://]host[:port][/uri]` or `unix:/path[:/uri]`",
  headers: '`{ Header-Name = "value", ... }`',
  resolver: "`false`, or address string / array of addresses",
  real_ip_list: "address, CIDR, host name or `unix:`; string or array",
  access_list: '`[{ allow = "ADDR" }, { deny = "all" }, ...]`, checked in order',
  ssl_protocols: "array of TLS version names",
  ssl_session_cache: 'string: `"off"`, `"none"`, `"builtin[:N]"` and/or `"shared:NAME:SIZE"`',
  sni: "array of tables `{ name, ssl_certificate, ssl_certificate_key }`",
  workers: '`"auto"` or an integer',
  backend: '`"ip:port"` or `"upstream:NAME"`, or `{ imap = "ip:port", pop3 = "upstream:NAME", ... }`',
  password_hash: '`"$scrypt$..."` from `mailproxy hash-password`',
  error_log: '`"TARGET [LEVEL]"` or an array of them; TARGET `stderr`, a file path or `syslog:server=…`',
  backend_address: '`"ip:port"`',
  health_check: '`{ interval = "5s", timeout = "2s", fails = 2, passes = 2 }`',
  limit_rule: '`{ failures = 10, window = "10m", block = "15m" }` or `false`',
  duration_list: 'array of nginx times (`["2s", "4s"]`)',
  cidr_list: "IP address or CIDR; string or array",
  age: 'nginx time (`"30d"`) up to 10 years, or an integer of seconds',
  table: "table",
  table_array: "array of tables",
  unsupported: "not supported",
  removed: "removed",
};

const HEADER = `# mailproxy configuration reference

<!-- Generated from lib/config/schema.ts by \`deno task docs\` (scripts/gen_config_doc.ts). Do not edit:
     tests/config_doc_test.ts fails when this file differs from the generated one. -->

The config file is TOML. Keys are named after the nginx mail directives they replace (same name,
same default, same value syntax inside strings); keys marked *mailproxy only* have no nginx
equivalent. \`mailproxy --check --config FILE\` validates a file like \`nginx -t\`;
\`mailproxy convert nginx.conf\` writes one from an nginx config. Editors can complete and check keys
with the JSON Schema in [config.schema.json](config.schema.json).
`;

function escapeCell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

function defaultText(spec: KeySpec): string {
  if (spec.defaultDoc) return spec.defaultDoc;
  if (spec.default === undefined || spec.default === null) return "unset";
  if (spec.kind === "table_array" || spec.kind === "table") return "none";
  return `\`${tomlValue(spec.default)}\``;
}

function keyDoc(spec: KeySpec, anchor: string): string[] {
  const where = CONTEXTS[spec.context]?.where ?? `[${spec.context}]`;
  const rows: [string, string][] = [["Type", KINDS[spec.kind] ?? spec.kind]];
  if (spec.values) rows.push(["Values", spec.values.map((v) => `\`${v}\``).join(", ")]);
  if (spec.boolAliases) {
    rows.push(["Booleans", `\`false\` = \`${spec.boolAliases[0]}\`, \`true\` = \`${spec.boolAliases[1]}\``]);
  }
  if (spec.min !== undefined || spec.max !== undefined) {
    rows.push(["Range", `${spec.min ?? "…"} to ${spec.max ?? "…"}${spec.kind === "size" ? " bytes" : ""}`]);
  }
  if (spec.kind !== "removed") rows.push(["Default", defaultText(spec)]);
  if (spec.required) rows.push(["Required", "yes"]);
  rows.push(["nginx", spec.directive ? `\`${spec.directive}\`` : "— (mailproxy only)"]);
  rows.push(["Where", where]);
  // An explicit anchor: keys repeat across tables (listen, backend), so heading slugs would clash.
  const out = [`<a id="${anchor}"></a>`, "", `### \`${spec.name}\``, "", spec.doc, ""];
  if (spec.kind === "unsupported" || spec.kind === "removed") {
    out.push(`**Not accepted:** ${spec.reason}.`, "");
  }
  if (spec.warning) out.push(`**Note:** ${spec.warning}.`, "");
  out.push("| | |", "|---|---|", ...rows.map(([k, v]) => `| ${k} | ${escapeCell(v)} |`), "");
  if (spec.example !== "") out.push("```toml", spec.example, "```", "");
  return out;
}

/** The Markdown text of docs/CONFIG.md. */
export function configDocMarkdown(): string {
  const order: KeyContext[] = [];
  for (const k of CONFIG_KEYS) if (!order.includes(k.context)) order.push(k.context);
  const anchor = (spec: KeySpec) => `${spec.context.replace(".", "-")}-${spec.name}`;
  const out = [HEADER, "## Contents", ""];
  for (const ctx of order) {
    const title = CONTEXTS[ctx]?.title ?? `[${ctx}]`;
    const keys = CONFIG_KEYS.filter((k) => k.context === ctx).map((k) => `[\`${k.name}\`](#${anchor(k)})`);
    out.push(`- **${title}**: ${keys.join(", ")}`);
  }
  out.push("- [nginx directive → key](#nginx-directives)", "");
  for (const ctx of order) {
    const info = CONTEXTS[ctx];
    out.push(`## ${info?.title ?? `[${ctx}]`}`, "");
    if (info) out.push(info.intro, "");
    for (const spec of CONFIG_KEYS.filter((k) => k.context === ctx)) out.push(...keyDoc(spec, anchor(spec)));
  }
  out.push(
    '<a id="nginx-directives"></a>',
    "",
    "## nginx directive → key",
    "",
    "Every nginx directive mailproxy knows, and the key that takes its value (`mailproxy convert` uses " +
      "the same table).",
    "",
    "| nginx directive | TOML key | Where |",
    "|---|---|---|",
  );
  const rows: [string, string][] = [];
  for (const spec of CONFIG_KEYS) {
    const status = spec.kind === "unsupported"
      ? " (not supported)"
      : spec.kind === "removed"
      ? " (removed)"
      : "";
    const where = CONTEXTS[spec.context]?.where ?? spec.context;
    for (const name of directiveNames(spec)) {
      rows.push([name, `| \`${name}\` | [\`${spec.name}\`](#${anchor(spec)})${status} | ${where} |`]);
    }
  }
  rows.sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0);
  out.push(...rows.map(([, row]) => row), "");
  return out.join("\n");
}

if (import.meta.main) {
  const target = fileURLToPath(new URL("../docs/CONFIG.md", import.meta.url));
  writeFileSync(target, configDocMarkdown());
  console.log(`wrote ${target}`);
}
