/**
 * The upstream router: the one object that knows the `[[upstream]]` pools, their
 * servers' runtime state (through the {@link RouteStore}) and the sessions on them.
 * Sessions ask it for {@link BackendTargets}; health checks report to it; the admin API
 * reads and changes it. Owned by `Mailproxy` (one per process), replaced config on reload.
 * @module
 */

import type { AuthOk } from "../auth/mod.ts";
import { formatHostPort } from "../transport/mod.ts";
import type { UpstreamConfig, UpstreamServerConfig } from "../config/mod.ts";
import { getLogger } from "../log/mod.ts";
import type { MailproxyMetrics } from "../metrics/mod.ts";
import type { MailProtocol } from "../types.ts";
import { binaryForDisplay, toBinary, utf8 } from "../util/bytes.ts";
import { chooseServers, type RouteSource, type ServerView } from "./choose.ts";
import { affinityKey } from "./hash.ts";
import type { RouteStore, ServerHealth, ServerState } from "./route_store.ts";
import type { AttemptResult, BackendCandidate, BackendTargets } from "./targets.ts";

type Logger = ReturnType<typeof getLogger>;

/** Without active checks, a server marked down by failed connects is tried again after this (nginx's fail_timeout). */
export const PASSIVE_RETRY_MS = 10_000;

/** What the router needs from the process. */
export interface RouterDeps {
  store: RouteStore;
  metrics: MailproxyMetrics;
  /** Ends a session by id (the session registry's kill); false if it is gone. */
  kick: (sessionId: string, reason: string) => boolean;
  /** Clock (ms since the epoch); tests move it. */
  now?: () => number;
  /** Sessions kicked per batch by a flush, and the pause between batches (ms). */
  flushBatch?: number;
  flushPauseMs?: number;
}

/** One server as `GET /upstreams` shows it. */
export interface ServerStatus {
  address: string;
  state: "up" | "drain" | "down";
  weight: number;
  backup: boolean;
  healthy: boolean;
  sessions: number;
  users: number;
}

/** One upstream as `GET /upstreams` shows it. */
export interface UpstreamStatus {
  name: string;
  protocol: MailProtocol;
  hash: string;
  servers: ServerStatus[];
}

/** Where a user goes in one upstream, and why (`GET /routes/{user}`). */
export interface RouteInfo {
  upstream: string;
  /** null when no server can take the user now. */
  server: string | null;
  source: RouteSource;
}

/** An admin request that cannot be done: HTTP status and message. */
export class RouteError extends Error {
  constructor(readonly status: 400 | 404 | 409, message: string) {
    super(message);
  }
}

interface LiveSession {
  upstream: string;
  server: string;
  /** The login name the backend sees (binary string). */
  login: string;
}

/** Routes logins over the upstreams of the running config. */
export class UpstreamRouter {
  readonly #deps: RouterDeps;
  readonly #now: () => number;
  readonly #log = getLogger(["mailproxy", "upstream"]);
  #upstreams = new Map<string, UpstreamConfig>();
  /** Sessions per `upstream\0server` in this process. */
  readonly #counts = new Map<string, number>();
  /** Logged-in sessions by id, for flush and move. */
  readonly #live = new Map<string, LiveSession>();

  constructor(upstreams: readonly UpstreamConfig[], deps: RouterDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
    this.update(upstreams);
  }

  /** The pools of a new config (reload); the store keeps the state of servers that stay. */
  update(upstreams: readonly UpstreamConfig[]): void {
    this.#upstreams = new Map(upstreams.map((u) => [u.name, u]));
    void this.refreshGauges();
  }

  /** The pools, in config order. */
  get upstreams(): UpstreamConfig[] {
    return [...this.#upstreams.values()];
  }

  /**
   * The backends for one login the auth reply sent to `ok.upstream`. `login` is the
   * client's login name (binary string); the backend sees `ok.user` when the reply set it,
   * and that is the affinity key.
   */
  targets(
    ok: AuthOk,
    protocol: MailProtocol,
    login: string,
    sessionId: string,
    log?: Logger,
  ): BackendTargets {
    const name = ok.upstream ?? "";
    const upstream = this.#upstreams.get(name);
    const problem = !upstream
      ? `unknown upstream "${binaryForDisplay(name)}"`
      : upstream.protocol !== protocol
      ? `upstream "${name}" is ${upstream.protocol}, not ${protocol}`
      : null;
    if (problem !== null || !upstream) {
      return { problem, next: () => Promise.resolve(null), report: () => Promise.resolve(), ended: () => {} };
    }
    const backendLogin = ok.user ?? login;
    const key = affinityKey(upstream.hash, backendLogin);
    const display = binaryForDisplay(backendLogin);
    const logger = log ?? this.#log;
    let order: ServerView[] | null = null;
    /** The health each server had when the order was chosen: a good login on a healthy one writes nothing. */
    let clean: Set<string> | null = null;
    let source = "";
    let tried = 0;
    let attached: string | null = null;
    const candidate = (view: ServerView): BackendCandidate => {
      const s = upstream.servers.find((x) => x.address === view.address)!;
      const c: BackendCandidate = {
        host: s.host,
        port: s.port,
        address: s.address,
        upstream: upstream.name,
        connectTimeout: upstream.health_check.timeout,
        route: `${upstream.name}, ${tried === 1 ? source : "failover"}`,
      };
      if (upstream.backend_tls !== null) c.backendTls = upstream.backend_tls;
      if (upstream.proxy_protocol !== null) c.proxyProtocol = upstream.proxy_protocol;
      return c;
    };
    return {
      problem: null,
      next: async () => {
        if (order === null) {
          const now = this.#now();
          const [route, states] = await Promise.all([
            this.#deps.store.routeOf(upstream.name, backendLogin, key, now),
            this.#states(upstream),
          ]);
          const choice = chooseServers({
            servers: this.#views(upstream, states, now),
            key,
            pinned: route.pin,
            sticky: route.sticky?.server ?? null,
            tries: 1 + upstream.max_reconnects,
          });
          order = choice.order;
          source = choice.source;
          clean = new Set(
            upstream.servers.filter((_, i) => states[i].health.healthy && states[i].health.fails === 0)
              .map((s) => s.address),
          );
          // The decision is logged with the login ("client logged in, upstream … (pool, sticky)").
          this.#deps.metrics.upstreamRoutes.inc({ upstream: upstream.name, source });
        }
        if (tried < order.length) {
          tried++;
          return candidate(order[tried - 1]);
        }
        this.#deps.metrics.upstreamUnavailable.inc({ upstream: upstream.name });
        logger.error('no server of upstream {upstream} could take the login of "{user}" ({n} tried)', {
          upstream: upstream.name,
          user: display,
          n: tried,
        });
        return null;
      },
      report: async (c: BackendCandidate, result: AttemptResult) => {
        if (result === "transport") {
          await this.#judge(upstream, c.address, false, false);
          if (order !== null && tried < order.length) {
            this.#deps.metrics.upstreamFailovers.inc({ upstream: upstream.name, server: c.address });
            logger.warn("upstream {upstream} server {server} failed, trying {next}", {
              upstream: upstream.name,
              server: c.address,
              next: order[tried].address,
            });
          }
          return;
        }
        if (result === "internal") return;
        // The backend answered: it is alive, whatever it said about the password.
        if (!clean?.has(c.address)) await this.#judge(upstream, c.address, true, false);
        if (result !== "ok") return;
        attached = c.address;
        this.#count(upstream.name, c.address, 1);
        this.#live.set(sessionId, { upstream: upstream.name, server: c.address, login: backendLogin });
        if (key !== null) await this.#deps.store.attach(upstream.name, key, c.address);
      },
      ended: () => {
        if (attached === null) return;
        const server = attached;
        attached = null;
        this.#count(upstream.name, server, -1);
        this.#live.delete(sessionId);
        if (key !== null) {
          void this.#deps.store.detach(upstream.name, key, server, this.#now(), upstream.sticky);
        }
      },
    };
  }

  /**
   * A health verdict on a server: `ok` from an active check or a login connect. Failures in
   * a row up to `fails` mark it unhealthy, `passes` good active checks healthy again.
   */
  async recordCheck(upstream: string, address: string, ok: boolean): Promise<void> {
    const u = this.#upstreams.get(upstream);
    if (!u) return;
    this.#deps.metrics.upstreamHealthChecks.inc({ upstream, server: address, result: ok ? "ok" : "failed" });
    await this.#judge(u, address, ok, true);
  }

  async #judge(u: UpstreamConfig, address: string, ok: boolean, active: boolean): Promise<void> {
    const store = this.#deps.store;
    const [{ health: h }] = await store.serverStates(u.name, [address]);
    const before = h.healthy;
    if (ok) {
      h.fails = 0;
      if (!h.healthy) {
        h.passes++;
        // A login that got through proves it at once; active checks need `passes` in a row.
        if (!active || h.passes >= u.health_check.passes) {
          h.healthy = true;
          h.passes = 0;
          h.downSince = null;
        }
      }
    } else {
      h.passes = 0;
      h.fails++;
      if (h.healthy && h.fails >= u.health_check.fails) {
        h.healthy = false;
        h.downSince = this.#now();
      }
    }
    await store.setHealth(u.name, address, h);
    if (before !== h.healthy) {
      this.#deps.metrics.upstreamHealthChanges.inc({
        upstream: u.name,
        server: address,
        to: h.healthy ? "up" : "down",
      });
      const text = "upstream {upstream} server {server} is {health} ({why})";
      const fields = {
        upstream: u.name,
        server: address,
        health: h.healthy ? "healthy again" : "unhealthy",
        why: h.healthy
          ? (active ? `${u.health_check.passes} good checks` : "a login got through")
          : `${h.fails} failures in a row`,
      };
      if (h.healthy) this.#log.info(text, fields);
      else this.#log.warn(text, fields);
      await this.refreshGauges();
    }
  }

  /** The runtime state of every server of `u`, in config order. */
  #states(u: UpstreamConfig): Promise<ServerState[]> {
    return this.#deps.store.serverStates(u.name, u.servers.map((s) => s.address));
  }

  /** The servers of `u` as the choice sees them, from their states. */
  #views(u: UpstreamConfig, states: ServerState[], now: number): ServerView[] {
    return u.servers.map((s, i) => {
      const { override, health } = states[i];
      return {
        address: s.address,
        weight: override?.weight ?? s.weight,
        backup: s.backup,
        state: override?.state ?? s.state,
        healthy: isHealthy(health, u, now),
        sessions: this.#counts.get(u.name + "\u0000" + s.address) ?? 0,
      };
    });
  }

  /** The servers of `u` as the choice sees them now. */
  async #viewsNow(u: UpstreamConfig, now: number): Promise<ServerView[]> {
    return this.#views(u, await this.#states(u), now);
  }

  #count(upstream: string, server: string, delta: number): void {
    const id = upstream + "\u0000" + server;
    const n = Math.max(0, (this.#counts.get(id) ?? 0) + delta);
    this.#counts.set(id, n);
    this.#deps.metrics.upstreamServerSessions.set({ upstream, server }, n);
  }

  /** Sets the per-server gauges (up, state) from the current state. */
  async refreshGauges(): Promise<void> {
    const now = this.#now();
    for (const u of this.#upstreams.values()) {
      for (const v of await this.#viewsNow(u, now)) {
        const labels = { upstream: u.name, server: v.address };
        this.#deps.metrics.upstreamServerUp.set(labels, v.healthy && v.state !== "down" ? 1 : 0);
        for (const state of ["up", "drain", "down"]) {
          this.#deps.metrics.upstreamServerState.set({ ...labels, state }, v.state === state ? 1 : 0);
        }
        if (this.#deps.metrics.upstreamServerSessions.get(labels) === 0) {
          this.#deps.metrics.upstreamServerSessions.set(labels, 0);
        }
      }
    }
  }

  // ---- admin ------------------------------------------------------------------------

  /** Every upstream with its servers' state, health, sessions and users. */
  async status(): Promise<UpstreamStatus[]> {
    const now = this.#now();
    const out: UpstreamStatus[] = [];
    for (const u of this.#upstreams.values()) {
      const [views, users] = await Promise.all([
        this.#viewsNow(u, now),
        this.#deps.store.usersPerServer(u.name, now),
      ]);
      out.push({
        name: u.name,
        protocol: u.protocol,
        hash: u.hash,
        servers: views.map((v) => ({
          address: v.address,
          state: v.state,
          weight: v.weight,
          backup: v.backup,
          healthy: v.healthy,
          sessions: v.sessions,
          users: users.get(v.address) ?? 0,
        })),
      });
    }
    return out;
  }

  #server(name: string, address: string): { u: UpstreamConfig; s: UpstreamServerConfig } {
    const u = this.#upstreams.get(name);
    if (!u) throw new RouteError(404, `no upstream "${name}"`);
    const s = u.servers.find((x) => x.address === address || formatHostPort(x.host, x.port) === address);
    if (!s) throw new RouteError(404, `upstream "${name}" has no server "${address}"`);
    return { u, s };
  }

  /** Changes a server's state and/or weight at runtime (until restart; a reload keeps it). */
  async setServer(
    name: string,
    address: string,
    change: { state?: "up" | "drain" | "down"; weight?: number },
  ): Promise<ServerStatus> {
    const { u, s } = this.#server(name, address);
    const [{ override }] = await this.#deps.store.serverStates(u.name, [s.address]);
    const old = override ?? {};
    const next = { ...old, ...change };
    await this.#deps.store.setOverride(u.name, s.address, next);
    this.#log.info("upstream {upstream} server {server} set to {state}, weight {weight} by the admin API", {
      upstream: u.name,
      server: s.address,
      state: next.state ?? s.state,
      weight: next.weight ?? s.weight,
    });
    await this.refreshGauges();
    return (await this.status()).find((x) => x.name === u.name)!.servers.find((x) =>
      x.address === s.address
    )!;
  }

  /**
   * Forgets the server's sticky routes and ends its sessions in paced batches, so its
   * users log in again elsewhere (Dovecot `doveadm director flush`). Resolves with the
   * number of sessions to end once the first batch went; the rest follow in the background.
   */
  async flush(name: string, address: string): Promise<{ routes: number; sessions: number }> {
    const { u, s } = this.#server(name, address);
    const routes = await this.#deps.store.dropRoutesTo(u.name, s.address);
    const ids = [...this.#live].filter(([, l]) => l.upstream === u.name && l.server === s.address).map((
      [id],
    ) => id);
    this.#log.info("flushing upstream {upstream} server {server}: {routes} route(s), {n} session(s)", {
      upstream: u.name,
      server: s.address,
      routes,
      n: ids.length,
    });
    const batch = this.#deps.flushBatch ?? 50;
    const pause = this.#deps.flushPauseMs ?? 200;
    const kickBatch = (from: number) => {
      for (const id of ids.slice(from, from + batch)) this.#deps.kick(id, "moved to another backend server");
      if (from + batch < ids.length) setTimeout(() => kickBatch(from + batch), pause);
    };
    kickBatch(0);
    return { routes, sessions: ids.length };
  }

  /** Where `user` goes in each upstream (or in `only`), and why; nothing is changed. */
  async route(user: string, only?: string): Promise<RouteInfo[]> {
    const login = toBinary(utf8(user));
    const now = this.#now();
    const out: RouteInfo[] = [];
    for (const u of this.#upstreams.values()) {
      if (only !== undefined && u.name !== only) continue;
      const key = affinityKey(u.hash, login);
      const [route, views] = await Promise.all([
        this.#deps.store.routeOf(u.name, login, key, now),
        this.#viewsNow(u, now),
      ]);
      const choice = chooseServers({
        servers: views,
        key,
        pinned: route.pin,
        sticky: route.sticky?.server ?? null,
        tries: 1,
      });
      out.push({ upstream: u.name, server: choice.order[0]?.address ?? null, source: choice.source });
    }
    if (only !== undefined && out.length === 0) throw new RouteError(404, `no upstream "${only}"`);
    return out;
  }

  /**
   * Pins `user` to `address` and ends the user's sessions on other servers of that
   * upstream, so they log in again there (`doveadm director move`). The upstream is the
   * one holding `address` (or `upstreamName` when several do).
   */
  async pin(
    user: string,
    address: string,
    upstreamName?: string,
  ): Promise<{ upstream: string; kicked: number }> {
    const holders = this.upstreams.filter((u) =>
      (upstreamName === undefined || u.name === upstreamName) && u.servers.some((s) => s.address === address)
    );
    if (holders.length === 0) {
      throw new RouteError(
        404,
        `no upstream${upstreamName ? ` "${upstreamName}"` : ""} has server "${address}"`,
      );
    }
    if (holders.length > 1) {
      throw new RouteError(409, `several upstreams have server "${address}": name one with "upstream"`);
    }
    const u = holders[0];
    const login = toBinary(utf8(user));
    await this.#deps.store.setPin(u.name, login, address);
    const key = affinityKey(u.hash, login);
    if (key !== null) await this.#deps.store.dropRoute(u.name, key);
    const kicked = this.#kickUser(u.name, login, address);
    this.#log.info(
      'user "{user}" pinned to upstream {upstream} server {server} by the admin API ({n} session(s) moved)',
      {
        user,
        upstream: u.name,
        server: address,
        n: kicked,
      },
    );
    return { upstream: u.name, kicked };
  }

  /** Removes the user's pins (and sticky routes) in every upstream (or in `only`). */
  async unpin(user: string, only?: string): Promise<number> {
    const login = toBinary(utf8(user));
    let n = 0;
    for (const u of this.#upstreams.values()) {
      if (only !== undefined && u.name !== only) continue;
      if ((await this.#deps.store.routeOf(u.name, login, null, this.#now())).pin !== null) n++;
      await this.#deps.store.setPin(u.name, login, null);
      const key = affinityKey(u.hash, login);
      if (key !== null) await this.#deps.store.dropRoute(u.name, key);
    }
    this.#log.info('routes of user "{user}" removed by the admin API', { user });
    return n;
  }

  #kickUser(upstream: string, login: string, except: string): number {
    let n = 0;
    for (const [id, l] of this.#live) {
      if (l.upstream === upstream && l.login === login && l.server !== except) {
        if (this.#deps.kick(id, "moved to another backend server")) n++;
      }
    }
    return n;
  }
}

function isHealthy(h: ServerHealth, u: UpstreamConfig, now: number): boolean {
  if (h.healthy) return true;
  // Without active checks nothing would ever bring it back: retry after PASSIVE_RETRY_MS.
  return u.health_check.interval === 0 && h.downSince !== null && now - h.downSince >= PASSIVE_RETRY_MS;
}
