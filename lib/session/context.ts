/**
 * What the phases of a session share: its dependencies, facts, errors and small helpers.
 * @module
 */

import type { ConnectionLimits } from "../access/limits.ts";
import type { AuthOk, AuthProvider, ProxyProtocolInfo } from "../auth/types.ts";
import type { getLogger } from "../log/mod.ts";
import type { MailproxyMetrics } from "../metrics/mailproxy_metrics.ts";
import type { Credentials } from "../types.ts";
import type { RealIpTrust } from "../proxy_protocol/mod.ts";
import type { ClientTls, ServerTls } from "../tls/mod.ts";
import type { Transport } from "../transport/types.ts";
import type { SessionRegistry } from "./registry.ts";
import type { UpstreamRouter } from "../upstream/mod.ts";

/** What a session needs from the process around it. */
export interface SessionDeps {
  transport: Transport;
  auth: AuthProvider;
  metrics: MailproxyMetrics;
  registry: SessionRegistry;
  /** Connection limits of the process (max_connections, max_connections_per_ip); none = unlimited. */
  limits?: ConnectionLimits;
  /** The server's TLS contexts (lib/tls); needed for `listen … ssl`, `starttls` and backend TLS. */
  tls?: ServerTls;
  /** Who may send PROXY headers (`set_real_ip_from`); needed for `listen … proxy_protocol`. */
  realIp?: RealIpTrust;
  /** The `[[upstream]]` router (lib/upstream); needed when a login names an upstream. */
  upstreams?: UpstreamRouter;
}

/** What the session learned about the client beyond its socket: TLS and the PROXY header. */
export interface ClientFacts {
  tls?: ClientTls;
  proxy?: ProxyProtocolInfo;
}

export const EMPTY = new Uint8Array(0);
/** Reads start this small: most pre-auth commands and idle sessions need no more. */
export const MIN_READ = 1024;

/** Why a session ended, for the log and the sessions metric. */
export class SessionEnd extends Error {
  constructor(readonly reason: string, readonly outcome: string) {
    super(reason);
  }
}

/** The session logger (carries the session id). */
export type Logger = ReturnType<typeof getLogger>;

export interface LoggedIn {
  ok: AuthOk;
  credentials: Credentials;
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}
