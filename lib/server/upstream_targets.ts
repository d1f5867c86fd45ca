/**
 * The upstreams as the session's backend target source: a login whose auth reply names
 * an `[[upstream]]` (Auth-Upstream, the server's `upstream`, a static `"upstream:NAME"`)
 * gets that pool's candidates from the {@link UpstreamRouter}, in hash order with
 * failover; any other login the auth reply's Auth-Server:Auth-Port, as nginx does.
 * @module
 */

import type { AuthOk } from "../auth/mod.ts";
import type { ServerConfig } from "../config/mod.ts";
import { authServerTargets, type BackendTargets, type BackendTargetSource } from "../session/mod.ts";
import type { BackendCandidate as UpstreamCandidate, UpstreamRouter } from "../upstream/mod.ts";

/** The session's target source over `router` (see the module doc). */
export function upstreamTargetSource(router: UpstreamRouter): BackendTargetSource {
  return (ok, server, login) => {
    if (ok.upstream === undefined) return authServerTargets(ok, server, login);
    const routed = router.targets(ok, server.protocol, login.user, login.sessionId, login.log);
    /** The router's candidate last handed out (a login tries one at a time). */
    let current: UpstreamCandidate | null = null;
    const targets: BackendTargets = {
      exhausted: "unavailable",
      problem: routed.problem,
      next: async (failed) => {
        if (failed !== undefined && current !== null) await routed.report(current, "transport");
        current = await routed.next();
        return current === null ? null : candidateOf(current, ok, server);
      },
      report: async (_candidate, result) => {
        if (current !== null) await routed.report(current, result);
      },
      ended: () => routed.ended(),
    };
    return targets;
  };
}

/** The session's view of an upstream server: TLS per login beats per upstream beats per server. */
function candidateOf(c: UpstreamCandidate, ok: AuthOk, server: ServerConfig) {
  return {
    host: c.host,
    port: c.port,
    tls: ok.backendTls ?? c.backendTls ?? server.backend_tls,
    name: c.address,
    proxyProtocol: c.proxyProtocol,
    connectTimeout: c.connectTimeout,
    route: c.route,
  };
}
