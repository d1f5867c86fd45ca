/**
 * The in-memory {@link RouteStore}: one process's routing state, owned by `Mailproxy`
 * and passed to the router (never a module-level singleton). Expired sticky routes are
 * dropped when read and by a sweep on each detach, so the maps stay bounded by the
 * users seen within `sticky`.
 * @module
 */

import {
  freshHealth,
  type RouteStore,
  type ServerHealth,
  type ServerOverride,
  type ServerState,
  type StickyRoute,
  type UserRoute,
} from "./route_store.ts";

const SEP = "\u0000";

/** Routing state in this process's memory. */
export class MemoryRouteStore implements RouteStore {
  readonly #pins = new Map<string, string>();
  readonly #routes = new Map<string, StickyRoute & { upstream: string }>();
  readonly #overrides = new Map<string, ServerOverride>();
  readonly #health = new Map<string, ServerHealth>();
  #nextSweep = 0;

  routeOf(upstream: string, user: string, key: string | null, now: number): Promise<UserRoute> {
    const pin = this.#pins.get(upstream + SEP + user) ?? null;
    return Promise.resolve({ pin, sticky: key === null ? null : this.#sticky(upstream + SEP + key, now) });
  }

  serverStates(upstream: string, servers: readonly string[]): Promise<ServerState[]> {
    return Promise.resolve(servers.map((address) => {
      const id = upstream + SEP + address;
      const health = this.#health.get(id);
      return { override: this.#overrides.get(id) ?? null, health: health ? { ...health } : freshHealth() };
    }));
  }

  setPin(upstream: string, user: string, server: string | null): Promise<void> {
    if (server === null) this.#pins.delete(upstream + SEP + user);
    else this.#pins.set(upstream + SEP + user, server);
    return Promise.resolve();
  }

  #sticky(id: string, now: number): StickyRoute | null {
    const route = this.#routes.get(id);
    if (!route) return null;
    if (route.expiresAt !== null && route.expiresAt <= now) {
      this.#routes.delete(id);
      return null;
    }
    return { server: route.server, sessions: route.sessions, expiresAt: route.expiresAt };
  }

  attach(upstream: string, key: string, server: string): Promise<void> {
    const id = upstream + SEP + key;
    const route = this.#routes.get(id);
    if (route && route.server === server) {
      route.sessions++;
      route.expiresAt = null;
    } else {
      // A new server for the key (first login, failover, pin): sessions on the old one
      // still end through detach, which ignores them once the route moved.
      this.#routes.set(id, { upstream, server, sessions: 1, expiresAt: null });
    }
    return Promise.resolve();
  }

  detach(upstream: string, key: string, server: string, now: number, stickyMs: number): Promise<void> {
    const id = upstream + SEP + key;
    const route = this.#routes.get(id);
    if (route && route.server === server) {
      route.sessions = Math.max(0, route.sessions - 1);
      if (route.sessions === 0) {
        if (stickyMs > 0) route.expiresAt = now + stickyMs;
        else this.#routes.delete(id);
      }
    }
    if (now >= this.#nextSweep) this.#sweep(now);
    return Promise.resolve();
  }

  dropRoutesTo(upstream: string, server: string): Promise<number> {
    let n = 0;
    for (const [id, route] of this.#routes) {
      if (route.upstream === upstream && route.server === server) {
        this.#routes.delete(id);
        n++;
      }
    }
    return Promise.resolve(n);
  }

  dropRoute(upstream: string, key: string): Promise<void> {
    this.#routes.delete(upstream + SEP + key);
    return Promise.resolve();
  }

  usersPerServer(upstream: string, now: number): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const route of this.#routes.values()) {
      if (route.upstream !== upstream || (route.expiresAt !== null && route.expiresAt <= now)) continue;
      out.set(route.server, (out.get(route.server) ?? 0) + 1);
    }
    return Promise.resolve(out);
  }

  setOverride(upstream: string, server: string, value: ServerOverride): Promise<void> {
    this.#overrides.set(upstream + SEP + server, { ...value });
    return Promise.resolve();
  }

  setHealth(upstream: string, server: string, value: ServerHealth): Promise<void> {
    this.#health.set(upstream + SEP + server, { ...value });
    return Promise.resolve();
  }

  /** Drops expired routes; at most once a minute. */
  #sweep(now: number): void {
    this.#nextSweep = now + 60_000;
    for (const [id, route] of this.#routes) {
      if (route.expiresAt !== null && route.expiresAt <= now) this.#routes.delete(id);
    }
  }
}
