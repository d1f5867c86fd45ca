/**
 * The `[[upstream]]` tables (backend pools with affinity and failover) and the checks
 * that tie them to the rest of the config: unknown upstream names (a server's
 * `upstream`, static `"upstream:NAME"` backends), protocol mismatches, duplicate names
 * and addresses, and pools without a server that is not a backup.
 * @module
 */

import type { MailProtocol } from "../types.ts";
import { formatHostPort } from "./addr.ts";
import { defaultOf } from "./defaults.ts";
import type { KeyPath } from "./locate.ts";
import type { Reporter } from "./report.ts";
import { describeTable, readTable, type TableRead } from "./table.ts";
import type {
  HealthCheckConfig,
  ServerConfig,
  StaticAuthConfig,
  UpstreamConfig,
  UpstreamServerConfig,
} from "./types.ts";

function isTable(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) && !(value instanceof Date);
}

/** Reads every `[[upstream]]`; invalid ones are reported and left out. */
export function readUpstreams(value: unknown, baseDir: string, rep: Reporter): UpstreamConfig[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    rep.error(
      ["upstream"],
      '"upstream" must be an array of tables: write [[upstream]] instead of [upstream]',
    );
    return [];
  }
  const out: UpstreamConfig[] = [];
  const names = new Map<string, number>();
  value.forEach((raw, i) => {
    const path: KeyPath = ["upstream", i];
    const where = describeTable("upstream", i);
    if (!isTable(raw)) {
      rep.error(path, `each upstream must be a table (${where})`);
      return;
    }
    const errorsBefore = rep.errorCount;
    const read = readTable(raw, "upstream", path, where, baseDir, rep);
    const name = read.values.get("name") as string | undefined;
    const servers = readServers(raw.server, path, where, baseDir, rep);
    const broken = rep.errorCount !== errorsBefore;
    if (name !== undefined) {
      const first = names.get(name);
      if (first !== undefined) {
        rep.error(
          [...path, "name"],
          `duplicate upstream "${name}" ${where} (first defined in #${first + 1})`,
        );
      } else names.set(name, i);
    }
    if (broken || name === undefined) return;
    const get = <T>(key: string): T => (read.values.get(key) ?? defaultOf("upstream", key)) as T;
    if (servers.length === 0) {
      rep.error(path, `upstream "${name}" has no server ${where} (add server = [{ address = "ip:port" }])`);
      return;
    }
    if (servers.every((s) => s.backup)) {
      rep.error(
        path,
        `upstream "${name}" has only backup servers ${where}: at least one must not be a backup`,
      );
      return;
    }
    out.push({
      name,
      protocol: get<MailProtocol>("protocol"),
      hash: get<UpstreamConfig["hash"]>("hash"),
      sticky: get<number>("sticky"),
      max_reconnects: get<number>("max_reconnects"),
      health_check: get<HealthCheckConfig>("health_check"),
      backend_tls: (read.values.get("backend_tls") ?? null) as UpstreamConfig["backend_tls"],
      proxy_protocol: (read.values.get("proxy_protocol") ?? null) as UpstreamConfig["proxy_protocol"],
      servers,
    });
  });
  return out;
}

function readServers(
  value: unknown,
  path: KeyPath,
  where: string,
  baseDir: string,
  rep: Reporter,
): UpstreamServerConfig[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    rep.error(
      [...path, "server"],
      `"server" ${where} must be an array of { address = "ip:port", ... } tables`,
    );
    return [];
  }
  const out: UpstreamServerConfig[] = [];
  const seen = new Map<string, number>();
  value.forEach((raw, j) => {
    const at: KeyPath = [...path, "server", j];
    const whereServer = `${where}, server #${j + 1}`;
    if (!isTable(raw)) {
      rep.error(at, `each server must be a table { address = "ip:port" } (${whereServer})`);
      return;
    }
    const read: TableRead = readTable(raw, "upstream.server", at, whereServer, baseDir, rep);
    const hp = read.values.get("address") as { host: string; port: number } | undefined;
    if (hp === undefined) return;
    const address = formatHostPort(hp.host, hp.port);
    const first = seen.get(address);
    if (first !== undefined) {
      rep.error(
        [...at, "address"],
        `duplicate server address "${address}" ${whereServer} (first in #${first + 1})`,
      );
      return;
    }
    seen.set(address, j);
    const get = <T>(key: string): T => (read.values.get(key) ?? defaultOf("upstream.server", key)) as T;
    out.push({
      address,
      host: hp.host,
      port: hp.port,
      weight: get<number>("weight"),
      backup: get<boolean>("backup"),
      state: get<UpstreamServerConfig["state"]>("state"),
    });
  });
  return out;
}

/**
 * Every reference to an upstream must name one of the right protocol: a server's
 * `upstream`, and static backends `"upstream:NAME"` (per protocol).
 */
export function checkUpstreamRefs(
  servers: ServerConfig[],
  upstreams: UpstreamConfig[],
  staticAuth: StaticAuthConfig,
  rawUpstreamCount: number,
  rep: Reporter,
): void {
  const byName = new Map(upstreams.map((u) => [u.name, u]));
  // An upstream with errors of its own is not in the list: do not call it unknown too.
  const incomplete = upstreams.length < rawUpstreamCount;
  const known = (name: string) => byName.has(name) || incomplete;
  const names = () => upstreams.length ? ` (defined: ${upstreams.map((u) => u.name).join(", ")})` : "";
  for (const server of servers) {
    if (server.upstream === null) continue;
    const path: KeyPath = ["server", server.index, "upstream"];
    const where = describeTable("server", server.index);
    const upstream = byName.get(server.upstream);
    if (!upstream) {
      if (!known(server.upstream)) {
        rep.error(path, `unknown upstream "${server.upstream}" ${where}${names()}`);
      }
    } else if (upstream.protocol !== server.protocol) {
      rep.error(
        path,
        `upstream "${upstream.name}" is ${upstream.protocol} but the server ${where} is ${server.protocol}`,
      );
    }
  }
  const checkBackends = (backends: StaticAuthConfig["backend"], path: KeyPath, where: string) => {
    for (const [protocol, ref] of Object.entries(backends)) {
      if (!ref || !("upstream" in ref)) continue;
      const upstream = byName.get(ref.upstream);
      const at = [...path, "backend"];
      if (!upstream) {
        if (!known(ref.upstream)) rep.error(at, `unknown upstream "${ref.upstream}" ${where}${names()}`);
      } else if (upstream.protocol !== protocol) {
        rep.error(
          at,
          `upstream "${upstream.name}" is ${upstream.protocol}, used as the ${protocol} backend ${where}`,
        );
      }
    }
  };
  checkBackends(staticAuth.backend, ["static_auth"], "in [static_auth]");
  staticAuth.users.forEach((user, i) => {
    // A user's backend table already holds the [static_auth] defaults merged in; report each once.
    const own = Object.fromEntries(
      Object.entries(user.backend).filter(([p, ref]) => staticAuth.backend[p as MailProtocol] !== ref),
    );
    checkBackends(own, ["static_auth", "user", i], describeTable("static_auth.user", i));
  });
}
