/**
 * The session driver's public face: run a session, the live-session registry, the
 * shutdown reason, and the backend target seam an upstream chooser plugs into
 * ({@link SessionDeps.backendTargets}, see backend_target.ts).
 * @module
 */

export { runSession } from "./session.ts";
export type { ClientFacts, SessionDeps } from "./context.ts";
export { SessionRegistry } from "./registry.ts";
export type { SessionEntry, SessionInfo, SessionTlsInfo } from "./registry.ts";
export { SHUTDOWN_REASON } from "./goodbye.ts";
export { authServerTargets } from "./backend_target.ts";
export type {
  BackendCandidate,
  BackendFailure,
  BackendResult,
  BackendTargets,
  BackendTargetSource,
  LoginContext,
} from "./backend_target.ts";
export type { SessionPhase } from "./scope.ts";
