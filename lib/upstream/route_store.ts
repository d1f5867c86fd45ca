/**
 * The state behind upstream routing, behind one small interface so that several
 * mailproxy nodes can share it (a Redis implementation is the next step); this
 * process uses {@link MemoryRouteStore}. Every method may be asynchronous. Keys are
 * plain strings: the upstream name, the affinity key (login or domain), the user as
 * the admin API names it, and the server address `host:port`.
 * @module
 */

/** A user's (or domain's) server in one upstream while it has sessions, and `sticky` after. */
export interface StickyRoute {
  server: string;
  /** Sessions open now on this route. */
  sessions: number;
  /** When the entry lapses (ms since the epoch); null while sessions are open. */
  expiresAt: number | null;
}

/** What the admin API changed about a server at runtime (absent fields: the config's). */
export interface ServerOverride {
  state?: "up" | "drain" | "down";
  weight?: number;
}

/** Health of one server as checks and failed connects left it. */
export interface ServerHealth {
  healthy: boolean;
  /** Failures in a row (active checks and login connects). */
  fails: number;
  /** Good checks in a row while unhealthy. */
  passes: number;
  /** When it was last marked unhealthy (ms since the epoch), for passive-only recovery. */
  downSince: number | null;
}

/** What the store knows about one login: its pin and its sticky route. */
export interface UserRoute {
  /** The admin pin of the user, or null. */
  pin: string | null;
  /** The live (not expired) sticky route of the affinity key, or null. */
  sticky: StickyRoute | null;
}

/** A server's runtime state: admin override and health. */
export interface ServerState {
  override: ServerOverride | null;
  health: ServerHealth;
}

/**
 * The routing state: pins, sticky routes, admin overrides of servers, health. A login
 * costs two reads ({@link routeOf}, {@link serverStates}) and one write ({@link attach}),
 * so a networked store needs three round trips per login.
 */
export interface RouteStore {
  /** The pin of `user` and the sticky route of `key` (null key: no affinity) at `now`. */
  routeOf(upstream: string, user: string, key: string | null, now: number): Promise<UserRoute>;
  /** The state of each of `servers`, in that order. */
  serverStates(upstream: string, servers: readonly string[]): Promise<ServerState[]>;
  /** Pins `user` to `server`, or removes the pin (null). */
  setPin(upstream: string, user: string, server: string | null): Promise<void>;
  /** A session of `key` started on `server`: the route points there and counts it. */
  attach(upstream: string, key: string, server: string): Promise<void>;
  /** A session of `key` on `server` ended: at no sessions left the route lapses after `stickyMs`. */
  detach(upstream: string, key: string, server: string, now: number, stickyMs: number): Promise<void>;
  /** Forgets every sticky route of `upstream` that points at `server` (flush); returns how many. */
  dropRoutesTo(upstream: string, server: string): Promise<number>;
  /** Forgets the sticky route of `key`. */
  dropRoute(upstream: string, key: string): Promise<void>;
  /** Live sticky routes per server of `upstream` (the "users" column of the admin API). */
  usersPerServer(upstream: string, now: number): Promise<Map<string, number>>;
  /** Sets the admin override of a server's state and weight. */
  setOverride(upstream: string, server: string, value: ServerOverride): Promise<void>;
  /** Sets the health of a server (a server never judged is healthy: {@link freshHealth}). */
  setHealth(upstream: string, server: string, value: ServerHealth): Promise<void>;
}

/** The health of a server nobody has judged yet. */
export function freshHealth(): ServerHealth {
  return { healthy: true, fails: 0, passes: 0, downSince: null };
}
