/**
 * The sans-I/O contract between protocol state machines and the session driver.
 *
 * A front end (client side, before proxying) takes client bytes and returns
 * {@link FrontendStep}s; a backend login machine takes backend bytes and returns
 * {@link BackendStep}s. Neither does I/O, timers or auth: the driver in
 * `lib/session/` does, which keeps every protocol testable with plain byte arrays.
 * @module
 */

import type { AuthFail, AuthOk } from "../auth/mod.ts";
import type { Credentials } from "../types.ts";

/** What the driver must do next for the client side. */
export type FrontendStep =
  /** Write `data` to the client, then call `step()` again. */
  | { kind: "send"; data: Uint8Array }
  /** Write `data` (if any), then close the connection. `reason` is for the log. */
  | { kind: "close"; data?: Uint8Array; reason: string }
  /** Stop reading the client; ask the auth provider; then call `authFailed`/`backendLogin`. */
  | { kind: "auth"; credentials: Credentials }
  /** Write `data` in clear, drop buffered client bytes (already done), upgrade to TLS, then `step()`. */
  | { kind: "starttls"; data: Uint8Array };

/**
 * Work a protocol wants done before its greeting (SMTP, spec §4.3.1–4.3.2). The
 * driver does it in this order, not reading the client meanwhile except as said.
 */
export interface PreGreeting {
  /**
   * Look the client's host name up (PTR + forward confirmation with the server's
   * `resolver`) and report it with {@link Frontend.setClientHost}.
   */
  resolveClientHost: boolean;
  /**
   * Then wait this long (ms, 0 = not at all) before the greeting. Client bytes
   * arriving meanwhile go to {@link Frontend.earlyInput}, whose step ends the session.
   */
  delayMs: number;
}

/** A client-side protocol state machine (IMAP, POP3, SMTP, ManageSieve). */
export interface Frontend {
  /**
   * Optional: what to do before the greeting. Absent means nothing: the greeting
   * goes out right after accept.
   */
  preGreeting?(): PreGreeting;
  /** The resolver's result: a confirmed name, `[UNAVAILABLE]` or `[TEMPUNAVAIL]`. */
  setClientHost?(host: string): void;
  /** The client talked during the greeting delay: the reply, then close. */
  earlyInput?(data: Uint8Array): FrontendStep;
  /**
   * The client host the auth request carries as `Client-Host` (SMTP only; nginx
   * sends it for SMTP even with `resolver` off, as `[UNAVAILABLE]`).
   */
  readonly clientHost?: string;
  /** Bytes to send first, after any {@link PreGreeting} work. */
  greeting(): Uint8Array;
  /** Appends client bytes to the command buffer. */
  receive(data: Uint8Array): void;
  /** Processes buffered input; null when a complete command is not yet available. */
  step(): FrontendStep | null;
  /** The auth provider refused: returns the reply (close when `fail.wait` is 0). */
  authFailed(fail: AuthFail): FrontendStep;
  /** The internal-error line of the protocol (then close). */
  internalError(): Uint8Array;
  /**
   * mailproxy only: the protocol's temporary failure when no server of an upstream could
   * take the login (the record's `lines.unavailable`: IMAP `NO [UNAVAILABLE]` tagged with the
   * login command's tag, POP3 `-ERR [SYS/TEMP]`, SMTP `451 4.3.0`; then close).
   */
  unavailable(): Uint8Array;
  /** mailproxy only: `[login_limits]` blocks the login for now (the record's `lines.loginBlocked`; then close). */
  loginBlocked(): Uint8Array;
  /** The machine that logs in to the backend on the user's behalf. */
  backendLogin(ok: AuthOk, credentials: Credentials): BackendLogin;
  /** Client bytes received after the command that completed authentication (forwarded after login). */
  takePipelined(): Uint8Array;
  /** The client finished a STARTTLS handshake: capability lists and `starttls only` rules change. */
  tlsEstablished(): void;
  /** Login name once known (binary string), for logs and the sessions view. */
  readonly login: string | undefined;
}

/** What the driver must do next for the backend side during login. */
export type BackendStep =
  /** Write `data` to the backend, then keep feeding replies. */
  | { kind: "send"; data: Uint8Array }
  /** Logged in: send `toClient` to the client, then relay. */
  | { kind: "done"; toClient: Uint8Array }
  /** Login failed: send `toClient`, close both. `log` describes why (no secrets). */
  | { kind: "fail"; toClient: Uint8Array; log: string };

/** A backend login dialogue (spec §5). */
export interface BackendLogin {
  /** Appends backend bytes; returns the next step or null if more bytes are needed. */
  receive(data: Uint8Array): BackendStep | null;
  /** The backend closed or errored before login completed. */
  internalError(): Uint8Array;
}

/** Per-session facts a front end needs from the driver. */
export interface FrontendContext {
  /** Connection already uses TLS (implicit or after STARTTLS). */
  secure: boolean;
  /**
   * The client address as auth_http's Client-IP has it (no port; `unix:` for UNIX
   * sockets). SMTP names it to the backend in XCLIENT.
   */
  clientIp?: string;
  /** Random source for salts, replaceable in tests. */
  random?: () => number;
  /** Clock (ms) for salts, replaceable in tests. */
  now?: () => number;
}
