/**
 * The sans-I/O contract between protocol state machines and the session driver.
 *
 * A front end (client side, before proxying) takes client bytes and returns
 * {@link FrontendStep}s; a backend login machine takes backend bytes and returns
 * {@link BackendStep}s. Neither does I/O, timers or auth: the driver in
 * `lib/session/` does, which keeps every protocol testable with plain byte arrays.
 * @module
 */

import type { AuthFail, AuthMethod, AuthOk } from "../auth/types.ts";

/** Credentials gathered by a front end. Strings are binary strings (one char per byte). */
export interface Credentials {
  method: AuthMethod;
  user: string;
  pass: string;
  /** Salt shown to the client (apop / cram-md5), without CRLF. */
  salt?: string;
  /** SMTP `none`: HELO argument, MAIL and RCPT lines. */
  smtp?: { helo: string; from: string; to: string };
}

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

/** A client-side protocol state machine (IMAP, POP3, SMTP). */
export interface Frontend {
  /** Bytes to send first (null when the protocol sends nothing, e.g. before an SMTP delay). */
  greeting(): Uint8Array;
  /** Appends client bytes to the command buffer. */
  receive(data: Uint8Array): void;
  /** Processes buffered input; null when a complete command is not yet available. */
  step(): FrontendStep | null;
  /** The auth provider refused: returns the reply (close when `fail.wait` is 0). */
  authFailed(fail: AuthFail): FrontendStep;
  /** The internal-error line of the protocol (then close). */
  internalError(): Uint8Array;
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
  /** Random source for salts, replaceable in tests. */
  random?: () => number;
  /** Clock (ms) for salts, replaceable in tests. */
  now?: () => number;
}
