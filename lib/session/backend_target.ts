/**
 * The seam between the session and whatever chooses backends: the session asks a
 * {@link BackendTargets} for candidates, one login at a time, and tries each in turn
 * (connect → preamble → login, backend.ts) until one logs the user in or a failure
 * is final. Today's source, {@link authServerTargets}, gives exactly one candidate:
 * the auth reply's Auth-Server:Auth-Port.
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

/** One backend to try. */
export interface BackendCandidate {
  /** Host (an IP address from Auth-Server, or what an upstream chooser names) and port. */
  host: string;
  port: number;
  /** TLS towards it: `backend_tls`, or the auth reply's Auth-Backend-TLS. */
  tls: BackendTlsMode;
  /** `host:port` as logs, metrics and the sessions view name it. */
  name: string;
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

/** The candidates of one login, in order. */
export interface BackendTargets {
  /**
   * The next candidate to try. The first call has no argument; each later call gets
   * the failure of the candidate before (always a `transport` one: final failures end
   * the login without asking). Null: no more candidates, the last failure is final.
   */
  next(failed?: BackendFailure): BackendCandidate | null;
  /**
   * Optional: `candidate` logged the user in (the relay starts); a final failure is
   * not reported here. For passive health checks (a success clears a server's failures).
   */
  loggedIn?(candidate: BackendCandidate): void;
}

/**
 * Makes the candidate source of one login from the auth reply: what
 * {@link SessionDeps.backendTargets} holds (default {@link authServerTargets}).
 */
export type BackendTargetSource = (ok: AuthOk, server: ServerConfig) => BackendTargets;

/** The auth reply's Auth-Server:Auth-Port, once: nginx's behaviour. */
export const authServerTargets: BackendTargetSource = (ok, server) => {
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
