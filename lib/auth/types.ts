/**
 * The auth provider interface: every way of deciding "who is this user and where
 * does the mailbox live" (auth_http, built-in static users, later a cache or Redis
 * in front of them) implements {@link AuthProvider}.
 * @module
 */

import type { AuthMethod, ClientTlsInfo, MailProtocol, ProxyProtocolInfo } from "../types.ts";

export type { ClientTlsInfo, ProxyProtocolInfo };

/** One authentication attempt. `user`, `pass` and `salt` are binary strings (one char per byte). */
export interface AuthRequest {
  protocol: MailProtocol;
  method: AuthMethod;
  user: string;
  pass: string;
  /** `<RANDOM.UNIXTIME@server_name>` without CRLF, for apop/cram-md5. */
  salt?: string;
  /** 1 for the first credentials of the session, +1 per new submission. */
  attempt: number;
  /** Client address without port (IPv6 without brackets, `unix:` for UNIX sockets). */
  clientIp: string;
  clientPort: number;
  /** SMTP only: resolved host name or `[UNAVAILABLE]` / `[TEMPUNAVAIL]`. */
  clientHost?: string;
  proxyProtocol?: ProxyProtocolInfo;
  /** SMTP `none` only: HELO argument, full MAIL and RCPT lines. */
  smtp?: { helo: string; from: string; to: string };
  tls?: ClientTlsInfo;
  /** Session id, for logs of the provider. Never sent to auth_http (nginx does not). */
  sessionId: string;
  /**
   * mailproxy only: the server's `upstream`, where the login goes when the reply names
   * no backend (no Auth-Server/Auth-Port, no static backend). Never sent to auth_http.
   */
  defaultUpstream?: string;
}

/** Where to send the user, and as whom. */
export interface AuthOk {
  status: "ok";
  /** Backend IP address (IPv4 dotted quad or bare IPv6); `""` when {@link upstream} is set. */
  server: string;
  /** Backend port; 0 when {@link upstream} is set. */
  port: number;
  /**
   * mailproxy only: the `[[upstream]]` that chooses the backend (Auth-Upstream, the
   * server's `upstream`, a static `"upstream:NAME"`); server/port are then unused.
   */
  upstream?: string;
  /** Replacement login / password towards the backend (Auth-User / Auth-Pass). */
  user?: string;
  pass?: string;
  /** mailproxy only: `Auth-Backend-TLS` overrides the server's `backend_tls` for this login. */
  backendTls?: "off" | "on" | "starttls";
  /** mailproxy only: the reply's `Auth-Cache` / `Auth-Cache-TTL` (see {@link CacheHint}). */
  cache?: CacheHint;
}

/**
 * mailproxy only: what the auth service says about caching its reply in `[auth_cache]`:
 * `Auth-Cache: no` (never cache it) and `Auth-Cache-TTL: N` (seconds, instead of the
 * configured ttl / negative_ttl).
 */
export interface CacheHint {
  no?: boolean;
  ttlSeconds?: number;
}

/** The user is refused: the message goes to the client. */
export interface AuthFail {
  status: "fail";
  message: string;
  /** Seconds to wait before replying; 0 = reply and close. */
  wait: number;
  /** SMTP only: replaces `535 5.7.0`. */
  errorCode?: string;
  /** mailproxy only: the reply's `Auth-Cache` / `Auth-Cache-TTL`. */
  cache?: CacheHint;
  /**
   * OAuth logins only: `Auth-Error-SASL`, the base64 JSON error (RFC 7628 §3.2.2) sent as
   * a SASL challenge before the failure line.
   */
  saslError?: string;
}

/** The auth exchange itself broke: the client gets the internal-error line. */
export interface AuthError {
  status: "error";
  /** For the log; must not contain secrets. */
  reason: string;
}

/** The outcome of {@link AuthProvider.authenticate}. */
export type AuthResult = AuthOk | AuthFail | AuthError;

/** Decides logins. Implementations must never throw; failures are {@link AuthError}. */
export interface AuthProvider {
  /** A short name for logs and metrics (`http`, `static`). */
  readonly name: string;
  authenticate(request: AuthRequest, signal?: AbortSignal): Promise<AuthResult>;
  /** Releases sockets or timers held by the provider. */
  close?(): void;
}
