/**
 * What the phases of a session share: its dependencies, facts, errors and small helpers.
 * @module
 */

import type { ConnectionLimits } from "../access/mod.ts";
import type { AuthOk, AuthProvider, ProxyProtocolInfo } from "../auth/mod.ts";
import type { LoginLimits } from "../limits/mod.ts";
import type { getLogger } from "../log/mod.ts";
import type { MailproxyMetrics } from "../metrics/mod.ts";
import type { Credentials } from "../types.ts";
import type { RealIpTrust } from "../proxy_protocol/mod.ts";
import type { ClientHostLookup } from "../resolver/mod.ts";
import type { ClientTls, ServerTls } from "../tls/mod.ts";
import type { Transport } from "../transport/mod.ts";
import type { SessionRegistry } from "./registry.ts";
import type { BackendTargetSource } from "./backend_target.ts";

/** What a session needs from the process around it. */
export interface SessionDeps {
  transport: Transport;
  auth: AuthProvider;
  metrics: MailproxyMetrics;
  registry: SessionRegistry;
  /** Connection limits of the process (max_connections, max_connections_per_ip); none = unlimited. */
  limits?: ConnectionLimits;
  /** `[login_limits]` counters of the process (lib/limits); none = no login limits. */
  loginLimits?: LoginLimits;
  /** The server's TLS contexts (lib/tls); needed for `listen … ssl`, `starttls` and backend TLS. */
  tls?: ServerTls;
  /** Whose PROXY headers replace the client address (`set_real_ip_from`); undefined = nobody's. */
  realIp?: RealIpTrust;
  /** SMTP client host lookups (`resolver`), with the DNS servers a reload re-resolves. */
  resolver: ClientHostLookup;
  /**
   * Where a logged-in session may go (backend_target.ts); default: the auth reply's
   * Auth-Server:Auth-Port only. An upstream chooser with failover plugs in here.
   */
  backendTargets?: BackendTargetSource;
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
