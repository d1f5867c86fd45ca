/**
 * The seam between the session and whatever chooses backends: the session asks a
 * {@link BackendTargets} for candidates, one login at a time, and tries each in turn
 * (connect → preamble → login, backend.ts) until one logs the user in or a failure
 * is final. The default source, {@link authServerTargets}, gives exactly one candidate:
 * the auth reply's Auth-Server:Auth-Port; lib/server/upstream_targets.ts gives an
 * `[[upstream]]`'s servers in failover order (asynchronous `next`, a connect timeout and
 * PROXY version per candidate, `report`/`ended` for affinity and health, and the
 * protocol's temporary failure when none is left: `exhausted: "unavailable"`).
 *
 * How a failure is classified, and so whether the next candidate is tried:
 * - `transport` (retryable): connect refused or timed out, the TLS or STARTTLS
 *   handshake failed, no or no valid greeting, the preamble (STARTTLS, EHLO) refused,
 *   the backend closed or timed out before the login reply. The backend has not judged
 *   the user's credentials, so another server may log them in. The client has seen
 *   nothing yet: the dialogue is not repeated.
 * - `rejected` (final): the backend answered the login dialogue with something other
 *   than success (a wrong password, an unknown user, XCLIENT or AUTH refused). Never
 *   retried: trying the password on every server is what a brute-forcer wants.
 * - `internal` (final): mailproxy cannot go on (no backend TLS context).
 * @module
 */

import type { AuthOk } from "../auth/mod.ts";
import type { ServerConfig } from "../config/mod.ts";
import type { BackendTlsMode } from "../tls/mod.ts";
import { formatHostPort } from "../transport/mod.ts";
import { binaryForDisplay } from "../util/bytes.ts";
import type { Logger } from "./context.ts";

/** One backend to try. */
export interface BackendCandidate {
  /** Host (an IP address from Auth-Server, or what an upstream chooser names) and port. */
  host: string;
  port: number;
  /** TLS towards it: `backend_tls`, or the auth reply's Auth-Backend-TLS. */
  tls: BackendTlsMode;
  /** `host:port` as logs, metrics and the sessions view name it. */
  name: string;
  /** The PROXY header towards it when it overrides the server's `proxy_protocol` (an upstream's). */
  proxyProtocol?: "off" | "v1" | "v2";
  /**
   * ms for the connect and the greeting (an upstream's health_check timeout), so a dead
   * server costs a short wait before the next one; once the backend has spoken the login
   * gets the rest of the server's `timeout`. Unset: `timeout` for everything.
   */
  connectTimeout?: number;
  /** How it was chosen, for the "client logged in" log line (`imap_main, sticky`). */
  route?: string;
}

/** Why an attempt on one candidate failed (see the module doc for the kinds). */
export interface BackendFailure {
  kind: "transport" | "rejected" | "internal";
  /** The stage for the log and the `backend_failures` metric. */
  stage: "connect" | "tls" | "login";
  /** For the log (never a secret). */
  why: string;
  /** What the client gets if no other candidate succeeds. */
  toClient: Uint8Array;
}

/** The final result of a login's last candidate (transport failures go to `next`). */
export type BackendResult = "ok" | "rejected" | "internal";

/** The candidates of one login, in order. */
export interface BackendTargets {
  /**
   * The next candidate to try. The first call has no argument; each later call gets
   * the failure of the candidate before (always a `transport` one: final failures end
   * the login without asking). Null: no more candidates. May be asynchronous (a route
   * store).
   */
  next(failed?: BackendFailure): BackendCandidate | null | Promise<BackendCandidate | null>;
  /**
   * Optional: how the login ended on `candidate` when it did not end by running out of
   * candidates: `ok` (it logged the user in; the relay starts), `rejected` or `internal`
   * (final). For passive health checks and affinity (awaited before the client hears it).
   */
  report?(candidate: BackendCandidate, result: BackendResult): void | Promise<void>;
  /** Optional: called once when the relay of a session that logged in through these targets ends. */
  ended?(): void;
  /**
   * What the client gets when `next()` returns null after transport failures (or at once):
   * `"last-failure"` (default, nginx) the last failure's own line, outcome `backend-<stage>`;
   * `"unavailable"` the protocol's temporary failure (IMAP `NO [UNAVAILABLE]`, POP3
   * `-ERR [SYS/TEMP]`, SMTP `451 4.3.0`), outcome `backend-unavailable`. Transport failures
   * of `"unavailable"` targets are logged as warnings: another server may still do.
   */
  readonly exhausted?: "last-failure" | "unavailable";
  /**
   * Set when the login cannot be routed at all (an unknown upstream): `next()` returns null
   * at once and the client gets the internal error, outcome `backend-unavailable`.
   */
  readonly problem?: string | null;
}

/** What a source learns of the login besides the auth reply. */
export interface LoginContext {
  /** The client's login name (binary string); the auth reply's Auth-User, if any, is `ok.user`. */
  user: string;
  /** The session id (for an upstream's live-session bookkeeping). */
  sessionId: string;
  /** The session's logger. */
  log: Logger;
}

/**
 * Makes the candidate source of one login from the auth reply: what
 * {@link SessionDeps.backendTargets} holds (default {@link authServerTargets}).
 */
export type BackendTargetSource = (ok: AuthOk, server: ServerConfig, login: LoginContext) => BackendTargets;

/**
 * The auth reply's Auth-Server:Auth-Port, once: nginx's behaviour. A reply naming an
 * upstream (Auth-Upstream) needs a source that knows the upstreams: here it is a problem.
 */
export const authServerTargets: BackendTargetSource = (ok, server) => {
  if (ok.upstream !== undefined) {
    return {
      problem: `upstream "${binaryForDisplay(ok.upstream)}" named but no [[upstream]] is configured`,
      next: () => null,
    };
  }
  let given = false;
  return {
    next: () => {
      if (given) return null;
      given = true;
      return {
        host: ok.server,
        port: ok.port,
        tls: ok.backendTls ?? server.backend_tls,
        name: formatHostPort(ok.server, ok.port),
      };
    },
  };
};
