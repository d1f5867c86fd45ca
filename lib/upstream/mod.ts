/**
 * Backend upstreams: pools of servers with per-user affinity (rendezvous hashing and
 * sticky routes), admin pins, drain and flush, health checks and connect-time failover
 * — what Dovecot's Director did, in nginx's `upstream` vocabulary.
 *
 * - {@link UpstreamRouter}: the routing decisions, owned by `Mailproxy`;
 * - {@link RouteStore} / {@link MemoryRouteStore}: the state behind them;
 * - {@link BackendTargets}: the candidates of one login, which lib/server/upstream_targets.ts
 *   turns into the session's backend target seam;
 * - {@link HealthChecker}: the active checks' timers.
 * @module
 */

export { type Choice, chooseServers, type RouteSource, type ServerView } from "./choose.ts";
export { GreetingCheck, type GreetingVerdict } from "./greeting_check.ts";
export { affinityKey, hrwOrder, hrwScore } from "./hash.ts";
export { HealthChecker } from "./health.ts";
export { MemoryRouteStore } from "./memory_store.ts";
export type { RouteStore, ServerHealth, ServerOverride, StickyRoute } from "./route_store.ts";
export {
  PASSIVE_RETRY_MS,
  RouteError,
  type RouteInfo,
  type RouterDeps,
  type ServerStatus,
  UpstreamRouter,
  type UpstreamStatus,
} from "./router.ts";
export type { AttemptResult, BackendCandidate, BackendTargets } from "./targets.ts";
