/**
 * The running proxy: binds every listener of the config, runs a session per
 * connection, serves the admin API, reloads its config in place (ending the sessions of
 * the replaced config after its `worker_shutdown_timeout`, when set), and shuts down
 * by draining sessions up to `shutdown_timeout`.
 * @module
 */

import { type AuthCache, createAdminApp, type ReloadOutcome, type WorkerLink } from "../admin/mod.ts";
import { type HttpServer, serveHttp, serveHttpUnix } from "../admin/mod.ts";
import { ConnectionLimits } from "../access/mod.ts";
import { AuthProviders, AuthResultCache, CachingAuthProvider, VerifyCache } from "../auth/mod.ts";
import type { AuthProvider } from "../auth/mod.ts";
import { listenAddress } from "../config/mod.ts";
import { loadConfigFile } from "../config/mod.ts";
import type { Config, ListenSpec, ServerConfig, UpstreamConfig } from "../config/mod.ts";
import { rmSync, statSync } from "node:fs";
import { getLogger } from "../log/mod.ts";
import { MailproxyMetrics } from "../metrics/mod.ts";
import { SHUTDOWN_REASON } from "../session/mod.ts";
import { SessionRegistry } from "../session/mod.ts";
import { type BackendTargetSource, runSession } from "../session/mod.ts";
import { listenNeedsTls, prepareServerSecurity, type ServerSecurity } from "../tls/mod.ts";
import { formatAddress } from "../transport/mod.ts";
import { ClientHostLookup } from "../resolver/mod.ts";
import { runtimeVersion } from "../transport/mod.ts";
import type { Listener, Transport } from "../transport/mod.ts";
import { LoginLimits } from "../limits/mod.ts";
import { HealthChecker, MemoryRouteStore, type RouteStore, UpstreamRouter } from "../upstream/mod.ts";
import { VERSION } from "../version.ts";
import { listensOf, planListeners } from "./listener_plan.ts";
import { OldSessions } from "./old_sessions.ts";
import { serverChanges } from "./server_changes.ts";
import { upstreamTargetSource } from "./upstream_targets.ts";
import { serveWorkerAdmin } from "./worker_admin.ts";
import { workerCount } from "./workers.ts";

/** A bound socket and what new sessions on it get; a reload swaps `server` and `provider`. */
interface BoundListener {
  server: ServerConfig;
  spec: ListenSpec;
  listener: Listener;
  provider: AuthProvider;
  /** TLS contexts and PROXY trust of `server`, rebuilt with it on reload (new certificate files apply). */
  security: ServerSecurity;
  /** Its connections can become TLS (node:net sockets on Deno). */
  upgradable: boolean;
}

/** Options of {@link Mailproxy}. */
export interface MailproxyOptions {
  /** Called with each config a reload applies (the CLI re-applies `[log]` here). */
  onReload?: (config: Config) => void;
  /** Cache the admin API may flush; default: the static users' password verify cache. */
  authCache?: AuthCache;
  /** In the supervisor of `worker_processes`: its copies, which the admin API shows too. */
  workers?: () => readonly WorkerLink[];
  /** In a worker copy: the UNIX socket of its private admin endpoint for the supervisor. */
  privateAdmin?: string;
  /** Serve the admin API on `[admin] listen` (default true; false in worker copies). */
  publicAdmin?: boolean;
  /** Prefix of this process's session ids (`w<index>-` in worker copies). */
  sessionIdPrefix?: string;
  /** Where upstream routes, pins and server states live; default: this process's memory. */
  routeStore?: RouteStore;
}

/** What the counters see while no `[login_limits]` is configured (nothing is asked then). */
const NO_LOGIN_LIMITS = { ip: null, user: null, delay: [], exempt: [], known_ip: 0 };

/**
 * One mailproxy process. It owns the state that outlives a session and hands it to each
 * one (SessionDeps): the transport, the session registry (and its id counter), the auth
 * providers with the static users' verify cache, the resolver's DNS servers, the limits
 * and the metrics. Nothing of this lives in module state, so two instances (tests) share
 * nothing, and a reload knows what to clear.
 */
export class Mailproxy {
  readonly startedAt = Date.now();
  readonly registry: SessionRegistry;
  /**
   * Successful static-user verifications. A reload keeps it: keys cover the stored hash,
   * so a changed password never matches, and a removed user is refused before any check.
   */
  readonly verifyCache = new VerifyCache();
  /** `[auth_cache]` entries: kept across reloads (keys cover the password, so stale ones just miss). */
  readonly authResults = new AuthResultCache();
  /** SMTP client host lookups; a reload clears the resolved `resolver` servers. */
  readonly resolver = new ClientHostLookup();
  /** max_connections / max_connections_per_ip, read from the current config at each admission. */
  readonly limits = new ConnectionLimits(() => ({
    maxConnections: this.#config.max_connections,
    maxConnectionsPerIp: this.#config.max_connections_per_ip,
  }));
  /** `[login_limits]` counters, read against the current config at each call (kept across reloads). */
  readonly loginLimits = new LoginLimits(() => this.#config.login_limits ?? NO_LOGIN_LIMITS);
  readonly metrics = new MailproxyMetrics({
    version: VERSION,
    runtime: runtimeVersion(),
    startedAt: this.startedAt,
  });
  /** Routing over the `[[upstream]]` pools: one per process, its state in the route store. */
  readonly upstreams: UpstreamRouter;
  /** Where logins go: an upstream's servers, or the auth reply's backend (SessionDeps.backendTargets). */
  readonly #backendTargets: BackendTargetSource;
  /** The active health checks of the current config's upstreams (replaced on reload). */
  #health: HealthChecker | null = null;
  readonly #transport: Transport;
  readonly #options: MailproxyOptions;
  #config: Config;
  /** Bound listeners by address (`host:port` or `unix:path`). */
  readonly #listeners = new Map<string, BoundListener>();
  /** Every provider made, per config generation; sessions of an older config may still use theirs. */
  readonly #providers: AuthProviders;
  /** One TLS/PROXY setup per server object (a reload makes new ones, so files are re-read). */
  readonly #security = new WeakMap<ServerConfig, Promise<ServerSecurity>>();
  /** Samples the open sessions for the status page's per-minute chart. */
  #sampler: ReturnType<typeof setInterval> | null = null;
  #admin: HttpServer | null = null;
  #privateAdmin: HttpServer | null = null;
  readonly #sessions = new Set<Promise<void>>();
  #reloading: Promise<unknown> = Promise.resolve();
  #lastReload: { at: number; ok: boolean; errors: string[] } | null = null;
  #stopping = false;
  readonly #log = getLogger(["mailproxy", "server"]);
  /** worker_shutdown_timeout: ends the sessions of replaced configs after their timeout. */
  readonly #oldSessions: OldSessions;

  constructor(config: Config, transport: Transport, options: MailproxyOptions = {}) {
    this.#config = config;
    this.#transport = transport;
    this.#options = options;
    this.registry = new SessionRegistry(options.sessionIdPrefix);
    this.#oldSessions = new OldSessions(this.registry, (n, ms) => {
      this.#log.info("worker_shutdown_timeout {seconds}s: ended {n} session(s) of a previous config", {
        seconds: ms / 1000,
        n,
      });
    });
    this.#providers = new AuthProviders(transport, this.verifyCache);
    this.upstreams = new UpstreamRouter(config.upstreams, {
      store: options.routeStore ?? new MemoryRouteStore(),
      metrics: this.metrics,
      kick: (id, reason) => this.registry.kill(id, reason),
    });
    this.#backendTargets = upstreamTargetSource(this.upstreams);
  }

  /** (Re)starts the active health checks for the current config's upstreams. */
  #startHealthChecks(): void {
    this.#health?.stop();
    const config = this.#config;
    // A pool's servers are checked with the settings of the first [[server]] that uses it.
    const defaults = (name: string) => {
      const user = config.servers.find((s) => s.upstream === name) ?? config.servers[0];
      return {
        proxyProtocol: user?.proxy_protocol ?? "off",
        backendTls: user?.backend_tls ?? "off",
      } as const;
    };
    this.#health = new HealthChecker(this.upstreams, this.#transport, (u) => defaults(u.name));
    this.#health.start(config.upstreams);
  }

  /** The config new sessions get. */
  get config(): Config {
    return this.#config;
  }

  /** Addresses actually bound (port 0 in config becomes the real port). */
  get listeners(): { server: number; protocol: string; listen: string; address: string }[] {
    return [...this.#listeners.values()].map((l) => ({
      server: l.server.index,
      protocol: l.server.protocol,
      listen: l.spec.raw,
      address: formatAddress(l.listener.addr),
    }));
  }

  /** The admin API port once started, or null. */
  get adminPort(): number | null {
    return this.#admin?.port ?? null;
  }

  /** Binds everything; on any failure closes what was bound and throws one clear error. */
  async start(): Promise<void> {
    try {
      for (const item of listensOf(this.#config.servers)) {
        const bound = await this.#bindListener(item.server, item.spec, this.#config);
        this.#listeners.set(item.address, bound);
        this.#acceptLoop(bound);
      }
      for (const server of this.#config.servers) this.metrics.initServer(server.index, server.protocol);
      this.#startHealthChecks();
      let ticks = 0;
      this.#sampler = setInterval(() => {
        this.metrics.sessionHistory.record(this.registry.size);
        // Once a minute: expired login-limit counters and cache entries go (bounded memory).
        if (++ticks % 6 === 0) {
          const now = Date.now();
          this.loginLimits.sweep(now);
          this.authResults.sweep(now);
        }
      }, 10_000);
      const admin = this.#config.admin;
      if (admin.listen && this.#options.publicAdmin !== false) {
        const app = this.#adminApp(() => this.#config.admin.token, this.#options.workers);
        try {
          this.#admin = admin.listen.transport === "unix"
            ? await serveHttpUnix(replaceStaleSocket(admin.listen.host), app.fetch)
            : await serveHttp(admin.listen.host, admin.listen.port, app.fetch);
        } catch (err) {
          throw new Error(`admin listen "${admin.listen.raw}": ${errorText(err)}`);
        }
        this.#log.info("admin API on {address}", {
          address: admin.listen.transport === "unix"
            ? listenAddress(admin.listen)
            : `${admin.listen.host}:${this.#admin.port}`,
        });
      }
      const privateAdmin = this.#options.privateAdmin;
      if (privateAdmin) {
        // Only the supervisor can reach it (0700 directory): no token. Without it the proxy
        // still works; the supervisor's admin API reports this worker as down.
        try {
          this.#privateAdmin = await serveWorkerAdmin(privateAdmin, this.#adminApp(null).fetch);
        } catch (err) {
          this.#log.error("worker admin endpoint {path}: {error}", {
            path: privateAdmin,
            error: errorText(err),
          });
        }
      }
    } catch (err) {
      await this.stop(0);
      throw err;
    }
  }

  #adminApp(token: (() => string | null) | null, workers?: () => readonly WorkerLink[]) {
    return createAdminApp({
      registry: this.registry,
      metrics: this.metrics,
      token,
      reload: () => this.reload(),
      authCache: this.#options.authCache ?? this.#bothCaches(),
      workers,
      upstreams: this.upstreams,
      loginLimits: this.loginLimits,
      status: {
        version: VERSION,
        runtime: runtimeVersion(),
        startedAt: this.startedAt,
        listeners: () => this.listeners,
        configFile: () => this.#config.file,
        lastReload: () => this.#lastReload,
      },
    });
  }

  async #bindListener(server: ServerConfig, spec: ListenSpec, config: Config): Promise<BoundListener> {
    // Certificates are read before binding: a bad file fails the start (or reload) cleanly.
    const security = await this.#securityOf(server);
    // Plain listeners use the runtime's own sockets (Deno.listen, Bun.listen): they cannot
    // become TLS, so turning TLS on for a kept listener needs a restart (see reload).
    const upgradable = listenNeedsTls(server, spec);
    const listener = await this.#bind(spec, upgradable);
    this.#log.info("server #{n} {protocol} listening on {addr}", {
      n: server.index + 1,
      protocol: server.protocol,
      addr: formatAddress(listener.addr),
    });
    return { server, spec, listener, provider: this.#provider(server, config), security, upgradable };
  }

  #securityOf(server: ServerConfig): Promise<ServerSecurity> {
    let security = this.#security.get(server);
    if (!security) {
      security = prepareServerSecurity(server);
      this.#security.set(server, security);
    }
    return security;
  }

  /** What `POST /auth-cache/flush` empties: the auth_http answers and the static users' verifications. */
  #bothCaches(): AuthCache {
    const { verifyCache, authResults } = this;
    return {
      get size() {
        return verifyCache.size + authResults.size;
      },
      clear() {
        verifyCache.clear();
        authResults.clear();
      },
      flushUser: (user) => authResults.flushUser(user),
    };
  }

  #provider(server: ServerConfig, config: Config): AuthProvider {
    const provider = this.#providers.for(server, config.static_auth);
    // [auth_cache] caches auth_http answers; static users have their own verify cache.
    if (config.auth_cache === null || provider.name !== "http") return provider;
    const settings = config.auth_cache;
    return new CachingAuthProvider(provider, this.authResults, () => settings);
  }

  async #bind(spec: ListenSpec, upgradable: boolean): Promise<Listener> {
    for (const option of unappliedListenOptions(spec, upgradable)) {
      this.#log.warn('listen "{listen}": {option} cannot be applied on {runtime}; ignored', {
        listen: spec.raw,
        option,
        runtime: this.#transport.runtime,
      });
    }
    try {
      return await this.#transport.listen({
        transport: spec.transport,
        hostname: spec.host,
        port: spec.port,
        path: spec.transport === "unix" ? spec.host : undefined,
        backlog: spec.backlog,
        upgradable,
        // Worker copies bind the same addresses; the kernel spreads connections over them.
        reusePort: workerCount(this.#config.worker_processes) > 1,
      });
    } catch (err) {
      throw new Error(`listen "${spec.raw}": ${errorText(err)}`);
    }
  }

  async #acceptLoop(bound: BoundListener): Promise<void> {
    while (true) {
      const conn = await bound.listener.accept();
      if (conn === null) return;
      // Read at accept time: a session keeps the settings it started with across reloads.
      const deps = {
        transport: this.#transport,
        auth: bound.provider,
        metrics: this.metrics,
        registry: this.registry,
        limits: this.limits,
        loginLimits: this.#config.login_limits ? this.loginLimits : undefined,
        tls: bound.security.tls,
        realIp: bound.security.realIp,
        resolver: this.resolver,
        backendTargets: this.#backendTargets,
      };
      const session = runSession(conn, bound.server, bound.spec, deps);
      this.#sessions.add(session);
      session.finally(() => this.#sessions.delete(session));
    }
  }

  /**
   * Re-reads the config file and applies it to new sessions: listeners are added,
   * removed or given new settings; sessions in progress keep theirs and are never
   * cut. A config that does not validate, or a new address that cannot be bound,
   * leaves everything as it was. Reloads run one at a time.
   */
  reload(): Promise<ReloadOutcome> {
    const run = this.#reloading.then(() => this.#reload());
    this.#reloading = run.catch(() => {});
    return run;
  }

  async #reload(): Promise<ReloadOutcome> {
    if (this.#stopping) return { ok: false, reason: "stopping", errors: ["mailproxy is shutting down"] };
    const loaded = await loadConfigFile(this.#config.file);
    if (!loaded.ok) return this.#refused(loaded.errors);
    const next = loaded.config;
    const current = new Map([...this.#listeners].map(([address, b]) => [address, b.spec]));
    const plan = planListeners(current, next.servers);
    const warnings = [...next.warnings, ...plan.warnings];
    const changes: string[] = [];

    // Bind new addresses first: if one fails, nothing has changed yet.
    const added: [string, BoundListener][] = [];
    for (const item of plan.add) {
      try {
        added.push([item.address, await this.#bindListener(item.server, item.spec, next)]);
      } catch (err) {
        for (const [, b] of added) b.listener.close();
        return this.#refused([errorText(err)]);
      }
    }

    // New certificate files and trust lists for kept listeners too; a bad file refuses the reload.
    const security: ServerSecurity[] = [];
    for (const item of plan.keep) {
      try {
        security.push(await this.#securityOf(item.server));
      } catch (err) {
        for (const [, b] of added) b.listener.close();
        return this.#refused([errorText(err)]);
      }
      if (!this.#listeners.get(item.address)!.upgradable && listenNeedsTls(item.server, item.spec)) {
        warnings.push(
          `listen "${item.spec.raw}": turning on TLS on a kept plain socket needs a restart`,
        );
      }
    }

    const oldServers = this.#config.servers;
    plan.keep.forEach((item, i) => {
      const bound = this.#listeners.get(item.address)!;
      bound.server = item.server;
      bound.spec = item.spec;
      bound.provider = this.#provider(item.server, next);
      bound.security = security[i];
    });
    for (const address of plan.remove) {
      this.#listeners.get(address)!.listener.close();
      this.#listeners.delete(address);
      changes.push(`stopped listening on ${address}`);
    }
    for (const [address, bound] of added) {
      this.#listeners.set(address, bound);
      this.#acceptLoop(bound);
      changes.push(
        `listening on ${formatAddress(bound.listener.addr)} (server #${bound.server.index + 1} ` +
          `${bound.server.protocol})`,
      );
    }
    changes.push(...serverChanges(oldServers, next.servers));
    changes.push(...upstreamChanges(this.#config.upstreams, next.upstreams));
    const oldAdmin = this.#config.admin.listen;
    const newAdmin = next.admin.listen;
    if ((oldAdmin && listenAddress(oldAdmin)) !== (newAdmin && listenAddress(newAdmin))) {
      warnings.push("[admin] listen changes need a restart; the admin API stays where it is");
    }
    if (this.#config.admin.token !== next.admin.token) changes.push("[admin] token changed");
    if (this.#config.shutdown_timeout !== next.shutdown_timeout) {
      changes.push(`shutdown_timeout ${next.shutdown_timeout / 1000}s`);
    }
    if (this.#config.worker_shutdown_timeout !== next.worker_shutdown_timeout) {
      const t = next.worker_shutdown_timeout;
      changes.push(`worker_shutdown_timeout ${t === null ? "none" : `${t / 1000}s`}`);
    }
    for (const server of next.servers) this.metrics.initServer(server.index, server.protocol);

    // The sessions of the replaced config end after its worker_shutdown_timeout (nginx's meaning).
    const timeout = this.#config.worker_shutdown_timeout;
    const retired = this.#oldSessions.retire(timeout);
    if (timeout !== null && retired > 0) {
      changes.push(
        `${retired} session(s) of the previous config end in ${timeout / 1000}s (worker_shutdown_timeout)`,
      );
    }
    this.#config = next;
    // `resolver` host names are resolved again, as an nginx reload does.
    this.resolver.clear();
    this.upstreams.update(next.upstreams);
    this.#startHealthChecks();
    this.#options.onReload?.(next);
    this.#lastReload = { at: Date.now(), ok: true, errors: [] };
    this.metrics.configReloads.inc({ result: "ok" });
    this.metrics.configLastReloadSuccessful.set({}, 1);
    this.metrics.configLastReloadSuccessTime.set({}, Date.now() / 1000);
    for (const w of warnings) this.#log.warn("reload: {warning}", { warning: w });
    this.#log.info("config reloaded from {file}: {changes}", {
      file: next.file,
      changes: changes.length ? changes.join("; ") : "no changes",
    });
    return { ok: true, changes, warnings };
  }

  #refused(errors: string[]): ReloadOutcome {
    this.#lastReload = { at: Date.now(), ok: false, errors };
    this.metrics.configReloads.inc({ result: "failed" });
    this.metrics.configLastReloadSuccessful.set({}, 0);
    this.#log.error("reload refused, keeping the running config: {errors}", { errors: errors.join("; ") });
    return { ok: false, reason: "invalid", errors };
  }

  /**
   * Stops accepting, lets sessions finish for up to `drainMs` (default: the config's
   * `shutdown_timeout`), then ends the rest (goodbye.ts says what each one gets).
   * The admin API answers until the end, so the drain can be watched.
   */
  async stop(drainMs: number = this.#config.shutdown_timeout): Promise<void> {
    this.#stopping = true;
    await this.#reloading;
    this.#oldSessions.clear();
    this.#health?.stop();
    this.#health = null;
    if (this.#sampler !== null) clearInterval(this.#sampler);
    this.#sampler = null;
    for (const l of this.#listeners.values()) l.listener.close();
    this.#listeners.clear();
    if (this.#sessions.size > 0 && drainMs > 0) {
      this.#log.info("waiting up to {seconds}s for {n} session(s) to finish", {
        seconds: drainMs / 1000,
        n: this.#sessions.size,
      });
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.all(this.#sessions),
        new Promise((r) => (timer = setTimeout(r, drainMs))),
      ]);
      clearTimeout(timer);
    }
    if (this.registry.size > 0) {
      this.#log.info("ending {n} remaining session(s)", { n: this.registry.size });
    }
    this.registry.killAll(SHUTDOWN_REASON);
    await Promise.all(this.#sessions);
    this.#providers.close();
    await this.#admin?.close();
    this.#admin = null;
    await this.#privateAdmin?.close();
    this.#privateAdmin = null;
  }
}

/**
 * Listen options the runtime's socket API cannot set. They are valid nginx syntax, so
 * --check accepts them, but the log says at start which ones have no effect here.
 */
export function unappliedListenOptions(spec: ListenSpec, nodeNet: boolean): string[] {
  const out: string[] = [];
  if (spec.rcvbuf !== undefined) out.push("rcvbuf");
  if (spec.sndbuf !== undefined) out.push("sndbuf");
  if (spec.so_keepalive !== undefined) out.push("so_keepalive");
  if (spec.ipv6only !== undefined) out.push("ipv6only");
  // node:net listeners (Bun, and TLS-capable listeners on Deno) take a backlog; Deno.listen does not.
  if (spec.backlog !== undefined && !nodeNet) out.push("backlog");
  return out;
}

/**
 * `[admin] listen = "unix:PATH"`: a socket file left by an earlier run is removed (the
 * runtimes refuse to bind over it); anything else at the path is left for the bind to refuse.
 */
function replaceStaleSocket(path: string): string {
  if (statSync(path, { throwIfNoEntry: false })?.isSocket()) rmSync(path);
  return path;
}

/** What a reload changes in the `[[upstream]]` pools (runtime states and routes are kept). */
export function upstreamChanges(
  before: readonly UpstreamConfig[],
  after: readonly UpstreamConfig[],
): string[] {
  const out: string[] = [];
  const old = new Map(before.map((u) => [u.name, JSON.stringify(u)]));
  for (const u of after) {
    const was = old.get(u.name);
    if (was === undefined) out.push(`upstream ${u.name} added`);
    else if (was !== JSON.stringify(u)) out.push(`upstream ${u.name} changed`);
    old.delete(u.name);
  }
  for (const name of old.keys()) out.push(`upstream ${name} removed`);
  return out;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
