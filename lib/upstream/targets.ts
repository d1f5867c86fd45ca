/**
 * What routing gives one login, and nothing more: the backends to try, in order, and
 * what happened with each. lib/server/upstream_targets.ts adapts it to the session's
 * backend target seam (lib/session/backend_target.ts): the driver loops
 * `next()` → connect → preamble → login, `report()` hears each try's result, only
 * `"transport"` moves on, and `ended()` runs once when a session that logged in ends.
 * @module
 */

/** One backend to try. */
export interface BackendCandidate {
  host: string;
  port: number;
  /** `host:port` (IPv6 in brackets), as logs, metrics and the admin API name it. */
  address: string;
  /** The upstream it belongs to; null for a fixed backend (Auth-Server, static "ip:port"). */
  upstream: string | null;
  /** The upstream's backend_tls / proxy_protocol when it overrides the server's. */
  backendTls?: "off" | "on" | "starttls";
  proxyProtocol?: "off" | "v1" | "v2";
  /**
   * ms for connect and greeting (the pool's health_check timeout), so a dead server costs
   * a short wait before the next one; the login itself keeps the server's `timeout`.
   */
  connectTimeout?: number;
  /** How it was chosen, for the login's log line: `pool, sticky` (or `pool, failover`). */
  route?: string;
}

/**
 * How a try ended: `ok` = logged in; `transport` = connect refused or timed out, no
 * greeting, or the backend closed before its login reply (retryable); `rejected` =
 * the backend answered the login with a refusal (never retried: no password spraying);
 * `internal` = anything else that ends the session (not retried).
 */
export type AttemptResult = "ok" | "transport" | "rejected" | "internal";

/** The backends of one login. */
export interface BackendTargets {
  /** The next backend to try, or null when there is none left. */
  next(): Promise<BackendCandidate | null>;
  /** The outcome of trying `candidate`. */
  report(candidate: BackendCandidate, result: AttemptResult): Promise<void>;
  /** The session that logged in through these targets ended. */
  ended(): void;
  /** Why there was no candidate at all (unknown upstream), for the log; else null. */
  readonly problem: string | null;
}
