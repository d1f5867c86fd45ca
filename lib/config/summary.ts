/**
 * `--check` output in the spirit of `nginx -t`: the verdict, one line per server, the
 * admin API, then any warnings.
 * @module
 */

import { listenAddress } from "./listen.ts";
import type { Config, ListenSpec, ServerConfig } from "./types.ts";

function describeListen(spec: ListenSpec): string {
  return listenAddress(spec) + (spec.ssl ? " ssl" : "") + (spec.proxy_protocol ? " proxy_protocol" : "");
}

function describeServer(server: ServerConfig): string {
  const parts = [
    `server #${server.index + 1}`,
    server.protocol,
    "listen",
    server.listen.map(describeListen).join(", "),
  ];
  if (server.starttls !== "off") parts.push(`(starttls ${server.starttls})`);
  parts.push("auth", server.auth);
  if (server.auth === "http" && server.auth_http) parts.push(server.auth_http.raw);
  if (server.upstream !== null) parts.push("upstream", server.upstream);
  return parts.join(" ");
}

/** What `--check` found beyond the config itself (busy ports, lib/cli/check.ts). */
export interface SummaryExtras {
  warnings?: string[];
  notes?: string[];
}

/** A multi-line human summary of a loaded config (no trailing newline: the caller ends the line). */
export function summarizeConfig(config: Config, extras: SummaryExtras = {}): string {
  const lines = [`mailproxy: configuration file ${config.file} syntax is ok`];
  lines.push(...config.servers.map(describeServer));
  const users = config.static_auth.users.length;
  if (users > 0) lines.push(`static_auth ${users} user${users === 1 ? "" : "s"}`);
  for (const u of config.upstreams) {
    const servers = u.servers.map((s) =>
      s.address + (s.backup ? " backup" : "") + (s.state !== "up" ? ` ${s.state}` : "") +
      (s.weight !== 1 ? ` weight=${s.weight}` : "")
    );
    lines.push(`upstream ${u.name} ${u.protocol} hash ${u.hash}: ${servers.join(", ")}`);
  }
  lines.push(
    config.admin.listen
      ? `admin listen ${listenAddress(config.admin.listen)}${
        config.admin.token ? " (token set)" : " (no token)"
      }`
      : "admin disabled",
  );
  lines.push(`workers ${config.worker_processes}, log ${config.log.level} ${config.log.format}`);
  if (config.error_log) lines.push(`error_log ${config.error_log.map((t) => t.raw).join(", ")}`);
  for (const s of config.servers) {
    if (s.error_log && s.error_log !== config.error_log) {
      lines.push(`server #${s.index + 1} error_log ${s.error_log.map((t) => t.raw).join(", ")}`);
    }
  }
  lines.push(...(extras.notes ?? []).map((n) => `note: ${n}`));
  lines.push(...[...config.warnings, ...(extras.warnings ?? [])].map((w) => `warning: ${w}`));
  lines.push(`mailproxy: configuration file ${config.file} test is successful`);
  return lines.join("\n");
}
