/**
 * Turns a parsed TOML document into a {@link Config}: reads the top level, the
 * sub-tables and every `[[server]]`, applies inheritance and cross-server checks
 * (duplicate address:port), and collects every error instead of stopping at the first.
 * @module
 */

import { defaultOf } from "./defaults.ts";
import { listenAddress } from "./listen.ts";
import type { KeyPath, LineIndex } from "./locate.ts";
import { Reporter } from "./report.ts";
import { buildServer } from "./server.ts";
import { readStaticAuth } from "./static_auth.ts";
import { describeTable, readTable, type TableRead } from "./table.ts";
import { checkUpstreamRefs, readUpstreams } from "./upstream.ts";
import type {
  AdminConfig,
  AuthCacheConfig,
  Config,
  ListenSpec,
  LogConfig,
  LoginLimitsConfig,
  ServerConfig,
} from "./types.ts";

/** Everything needed to resolve one document. */
export interface ResolveInput {
  /** The parsed TOML. */
  doc: Record<string, unknown>;
  /** File name as the user gave it, for messages. */
  file: string;
  /** Absolute path, stored in {@link Config.file}. */
  absFile: string;
  /** Directory relative paths are resolved against. */
  baseDir: string;
  /** Where each key was written. */
  lines: LineIndex;
}

/** The config, or every error found. Warnings travel inside the config. */
export type LoadResult = { ok: true; config: Config } | { ok: false; errors: string[] };

function isTable(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) && !(value instanceof Date);
}

/** Resolves and validates a parsed document. */
export function resolveConfig(input: ResolveInput): LoadResult {
  const { doc, baseDir } = input;
  const rep = new Reporter(input.file, input.lines);
  const top = readTable(doc, "top", [], describeTable("top"), baseDir, rep);
  const staticAuth = readStaticAuth(doc.static_auth, baseDir, rep);
  const admin = readAdmin(doc.admin, baseDir, rep);
  const log = readLog(doc.log, baseDir, rep);
  const loginLimits = readLoginLimits(doc.login_limits, baseDir, rep);
  const authCache = readAuthCache(doc.auth_cache, baseDir, rep);

  const servers: ServerConfig[] = [];
  const serverTables = readServers(doc.server, baseDir, rep);
  serverTables.forEach((own, i) => {
    const server = buildServer(i, own, top, staticAuth, rep);
    if (server) servers.push(server);
  });
  checkDuplicateListens(doc, serverTables, admin, rep);
  const upstreams = readUpstreams(doc.upstream, baseDir, rep);
  const rawUpstreams = Array.isArray(doc.upstream) ? doc.upstream.length : 0;
  checkUpstreamRefs(servers, upstreams, staticAuth.config, rawUpstreams, rep);

  if (rep.errorCount > 0) return { ok: false, errors: rep.errors };
  const config: Config = {
    file: input.absFile,
    worker_processes: (top.values.get("worker_processes") ?? defaultOf("top", "worker_processes")) as
      | number
      | "auto",
    worker_shutdown_timeout: (top.values.get("worker_shutdown_timeout") ?? null) as number | null,
    // nginx's worker_shutdown_timeout also bounds a graceful stop: it is the drain's default too.
    shutdown_timeout: (top.values.get("shutdown_timeout") ?? top.values.get("worker_shutdown_timeout") ??
      defaultOf("top", "shutdown_timeout")) as number,
    max_connections: (top.values.get("max_connections") ?? defaultOf("top", "max_connections")) as number,
    max_connections_per_ip: (top.values.get("max_connections_per_ip") ??
      defaultOf("top", "max_connections_per_ip")) as number,
    servers,
    error_log: (top.values.get("error_log") ?? null) as Config["error_log"],
    admin,
    log,
    login_limits: loginLimits,
    auth_cache: authCache,
    static_auth: staticAuth.config,
    upstreams,
    warnings: rep.warnings,
  };
  return { ok: true, config };
}

function readServers(value: unknown, baseDir: string, rep: Reporter): TableRead[] {
  if (value === undefined) {
    rep.error([], "no [[server]] is defined: add at least one [[server]] table with a listen");
    return [];
  }
  if (!Array.isArray(value)) {
    rep.error(["server"], '"server" must be an array of tables: write [[server]] instead of [server]');
    return [];
  }
  return value.map((raw, i) => {
    if (isTable(raw)) {
      return readTable(raw, "server", ["server", i], describeTable("server", i), baseDir, rep);
    }
    rep.error(["server", i], `each server must be a table (${describeTable("server", i)})`);
    return { values: new Map(), present: new Set(["listen"]) };
  });
}

function readAdmin(value: unknown, baseDir: string, rep: Reporter): AdminConfig {
  if (value === undefined) return { listen: null, token: null };
  if (!isTable(value)) {
    rep.error(["admin"], '"admin" must be a table: write [admin]');
    return { listen: null, token: null };
  }
  const read = readTable(value, "admin", ["admin"], describeTable("admin"), baseDir, rep);
  const admin: AdminConfig = {
    listen: (read.values.get("listen") ?? defaultOf("admin", "listen")) as ListenSpec,
    token: (read.values.get("token") ?? null) as string | null,
  };
  // Anyone who reaches the admin API can list sessions, kick users and reload: off loopback
  // it needs a token, or the operator saying explicitly that the network is trusted.
  const host = admin.listen?.host ?? "";
  const loopback = admin.listen?.transport === "unix" || host.startsWith("127.") || host === "::1" ||
    host.startsWith("::ffff:127.");
  if (!loopback && admin.token === null && read.values.get("allow_unauthenticated") !== true) {
    rep.error(
      ["admin", "listen"],
      `[admin] listens on ${listenAddress(admin.listen!)} without a token: anyone who can reach it could ` +
        "list sessions, kick users and reload. Set [admin] token, listen on loopback or a UNIX socket, " +
        "or set allow_unauthenticated = true if the network is trusted",
    );
  }
  return admin;
}

function readLoginLimits(value: unknown, baseDir: string, rep: Reporter): LoginLimitsConfig | null {
  if (value === undefined) return null;
  if (!isTable(value)) {
    rep.error(["login_limits"], '"login_limits" must be a table: write [login_limits]');
    return null;
  }
  const read = readTable(
    value,
    "login_limits",
    ["login_limits"],
    describeTable("login_limits"),
    baseDir,
    rep,
  );
  const get = (name: string) =>
    read.values.has(name) ? read.values.get(name) : defaultOf("login_limits", name);
  return {
    ip: get("ip") as LoginLimitsConfig["ip"],
    user: get("user") as LoginLimitsConfig["user"],
    delay: get("delay") as number[],
    exempt: get("exempt") as string[],
    known_ip: get("known_ip") as number,
  };
}

function readAuthCache(value: unknown, baseDir: string, rep: Reporter): AuthCacheConfig | null {
  if (value === undefined) return null;
  if (!isTable(value)) {
    rep.error(["auth_cache"], '"auth_cache" must be a table: write [auth_cache]');
    return null;
  }
  const read = readTable(value, "auth_cache", ["auth_cache"], describeTable("auth_cache"), baseDir, rep);
  const get = (name: string) => read.values.has(name) ? read.values.get(name) : defaultOf("auth_cache", name);
  return {
    ttl: get("ttl") as number,
    negative_ttl: get("negative_ttl") as number,
    stale_if_error: get("stale_if_error") as number,
    client_ip: get("client_ip") as boolean,
    max_entries: get("max_entries") as number,
  };
}

function readLog(value: unknown, baseDir: string, rep: Reporter): LogConfig {
  const defaults: LogConfig = {
    level: defaultOf("log", "level") as LogConfig["level"],
    format: defaultOf("log", "format") as LogConfig["format"],
  };
  if (value === undefined) return defaults;
  if (!isTable(value)) {
    rep.error(["log"], '"log" must be a table: write [log]');
    return defaults;
  }
  const read = readTable(value, "log", ["log"], describeTable("log"), baseDir, rep);
  return {
    level: (read.values.get("level") ?? defaults.level) as LogConfig["level"],
    format: (read.values.get("format") ?? defaults.format) as LogConfig["format"],
  };
}

/** Same address:port (or UNIX path) in two listens anywhere, admin included, is an error. */
function checkDuplicateListens(
  doc: Record<string, unknown>,
  servers: TableRead[],
  admin: AdminConfig,
  rep: Reporter,
): void {
  const seen = new Map<string, { where: string; path: KeyPath }>();
  const visit = (spec: ListenSpec, where: string, path: KeyPath) => {
    const address = listenAddress(spec);
    const first = seen.get(address);
    if (first) {
      const line = rep.lines.lineOf(first.path);
      rep.error(
        path,
        `duplicate "${address}" address and port pair ${where} (first used ${first.where}, line ${line})`,
      );
    } else {
      seen.set(address, { where, path });
    }
  };
  const rawServers = Array.isArray(doc.server) ? doc.server : [];
  servers.forEach((read, i) => {
    const listens = (read.values.get("listen") ?? []) as ListenSpec[];
    const raw = isTable(rawServers[i]) ? rawServers[i].listen : undefined;
    for (const spec of listens) {
      const element = Array.isArray(raw) ? raw.indexOf(spec.raw) : -1;
      const path = element >= 0 ? ["server", i, "listen", element] : ["server", i, "listen"];
      visit(spec, describeTable("server", i), path);
    }
  });
  if (admin.listen) visit(admin.listen, "in [admin]", ["admin", "listen"]);
}
