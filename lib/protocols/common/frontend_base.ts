/**
 * The state and Frontend wiring every front end shares: the command parser, the
 * server settings, the SASL policy and `max_errors` counter, TLS, the phase, a
 * pending SASL exchange and the login name. Each protocol's front end extends it and
 * keeps only its wire text and command rules. A class (not a per-command closure)
 * so that the login path costs no extra allocation or call hop.
 * @module
 */

import type { AuthFail, AuthOk } from "../../auth/mod.ts";
import type { ServerConfig } from "../../config/mod.ts";
import type { SaslExchange, SaslPolicy } from "../../sasl/mod.ts";
import type { Credentials } from "../../types.ts";
import { fromBinary } from "../../util/bytes.ts";
import type { FrontendContext, FrontendStep } from "../types.ts";
import type { BackendRepliesConfig } from "./backend_credentials.ts";
import { closeWith, loginNeedsTls, phaseAfterAuthFailure, send } from "./frontend_steps.ts";
import { authFailedStep, ErrorCounter, saslPolicy } from "./pre_auth.ts";
import { SaslErrorChallenge } from "./sasl_error.ts";

/** What a front end needs of its command parser besides parsing. */
export interface FrontendParser {
  /** Appends client bytes. */
  push(data: Uint8Array): void;
  /** The next line is a SASL response. */
  expectResponse(): void;
  /** Drops buffered bytes (pipelined behind STARTTLS). */
  discard(): void;
  /** Returns and drops buffered bytes (pipelined behind the login). */
  take(): Uint8Array;
}

/** The protocol's lines the shared part sends (its record's `lines`). */
export interface FrontendLines {
  readonly internalError: string;
  readonly unavailable: string;
  readonly loginBlocked: string;
}

/** An OAuth error challenge in the protocol's wire form, and the phase that awaits the dummy response. */
export interface SaslErrorReply<Start extends string> {
  readonly data: string;
  readonly phase: Start;
}

/** The settings the shared part reads. */
export type FrontendBaseOptions = Pick<ServerConfig, "max_errors" | "server_name" | "starttls">;

/**
 * The settings a protocol's front end (and its backend login) reads: the shared ones
 * plus the protocol's own `Keys`.
 */
export type ProtocolOptions<Keys extends keyof ServerConfig> =
  & FrontendBaseOptions
  & BackendRepliesConfig
  & Pick<ServerConfig, Keys>;

/**
 * The shared part of a front end. `Start` is the protocol's own phases; "auth" (waiting
 * for the auth service) and "closed" are common. `Sasl` is what a pending SASL exchange
 * keeps (IMAP adds the command's tag).
 */
export abstract class FrontendBase<
  Config extends FrontendBaseOptions,
  Parser extends FrontendParser,
  Start extends string,
  Sasl = SaslExchange,
> {
  protected readonly config: Config;
  protected readonly parser: Parser;
  protected readonly policy: SaslPolicy;
  protected readonly errors: ErrorCounter;
  protected secure: boolean;
  protected phase: Start | "auth" | "closed";
  /** A SASL exchange waiting for the client's next response. */
  protected sasl: Sasl | null = null;
  /** The login name once known (binary string). */
  protected user: string | undefined;
  readonly #lines: FrontendLines;
  /** A failed OAuth login whose error challenge awaits the client's dummy response. */
  readonly #saslError = new SaslErrorChallenge();
  /** The phase a refused login returns to. */
  readonly #start: Start;

  /**
   * `methods`: the protocol's `*_auth` list; `start`: the first phase; `lines`: the
   * protocol's internal-error and unavailable lines; `salt`: the APOP/CRAM-MD5 salt when the
   * protocol shows one (POP3).
   */
  constructor(
    config: Config,
    ctx: FrontendContext,
    parser: Parser,
    methods: readonly string[],
    start: Start,
    lines: FrontendLines,
    salt?: string,
  ) {
    this.#lines = lines;
    this.#start = start;
    this.config = config;
    this.parser = parser;
    this.secure = ctx.secure;
    this.phase = start;
    this.errors = new ErrorCounter(config.max_errors);
    this.policy = saslPolicy(methods, config.server_name, ctx, salt);
  }

  /** Login name once known (binary string); Auth-User replaces it once the backend login starts. */
  get login(): string | undefined {
    return this.user;
  }

  /** Appends client bytes to the command buffer (ignored once closed). */
  receive(data: Uint8Array): void {
    if (this.phase !== "closed") this.parser.push(data);
  }

  /**
   * The auth provider refused: the protocol's reply (close when `fail.wait` is 0), or first
   * the OAuth error challenge when `fail` has an Auth-Error-SASL and the protocol sends one.
   */
  authFailed(fail: AuthFail): FrontendStep {
    if (fail.saslError !== undefined) {
      const reply = this.saslErrorReply(fail.saslError);
      if (reply !== null) {
        this.#saslError.begin(fail);
        this.sasl = null;
        this.phase = reply.phase;
        this.parser.expectResponse();
        return send(reply.data);
      }
    }
    return this.failed(this.authFailureReply(fail), fail);
  }

  /** Sends `reply` for the refused login `fail` and returns to the start state (or closes). */
  protected failed(reply: string, fail: AuthFail): FrontendStep {
    const step = authFailedStep(reply, fail);
    this.sasl = null;
    // Back to the start state; pipelined commands are processed by the next step() calls.
    this.phase = phaseAfterAuthFailure(step, this.phase, this.#start);
    return step;
  }

  /** `[login_limits]` blocks the login for now: the protocol's line (then close). */
  loginBlocked(): Uint8Array {
    return fromBinary(this.#lines.loginBlocked);
  }

  /** The internal-error line of the protocol (then close). */
  internalError(): Uint8Array {
    return fromBinary(this.#lines.internalError);
  }

  /** The protocol's temporary failure when no server of an upstream could take the login. */
  unavailable(): Uint8Array {
    return fromBinary(this.#lines.unavailable);
  }

  /** Client bytes received after the command that completed authentication. */
  takePipelined(): Uint8Array {
    return this.parser.take();
  }

  /** The client finished a STARTTLS handshake: a pending exchange is forgotten. */
  tlsEstablished(): void {
    this.secure = true;
    this.sasl = null;
  }

  /** The reply to a refused login (a binary string) for `authFailed`. */
  protected abstract authFailureReply(fail: AuthFail): string;

  /**
   * The OAuth error challenge `challenge` (base64) in the protocol's wire form with the phase
   * that awaits the dummy response; null (the default) when the protocol sends none.
   */
  protected saslErrorReply(_challenge: string): SaslErrorReply<Start> | null {
    return null;
  }

  /**
   * While an OAuth error challenge is out, the client's line (`response`, its first token) is
   * the dummy response: the failure line follows, or `invalid` when it is not the dummy.
   * Null when no challenge is out.
   */
  protected saslErrorResponse(response: string, invalid: string): FrontendStep | null {
    if (!this.#saslError.pending) return null;
    const { fail, valid } = this.#saslError.finish(response);
    return valid ? this.authFailed(fail) : this.failed(invalid, fail);
  }

  /** Forgets a pending OAuth error challenge (the parser failed). */
  protected cancelSaslError(): void {
    this.#saslError.cancel();
  }

  /** The auth service's Auth-User (if any) becomes the login name for the backend login. */
  protected adoptAuthUser(ok: AuthOk): void {
    if (ok.user !== undefined) this.user = ok.user;
  }

  /** Hands `credentials` to the auth provider; the client is not read meanwhile. */
  protected auth(credentials: Credentials): FrontendStep {
    this.#saslError.cancel();
    this.phase = "auth";
    this.sasl = null;
    return { kind: "auth", credentials };
  }

  /** A SASL exchange gave its credentials: they name the login, then go to the auth provider. */
  protected saslCredentials(credentials: Credentials): FrontendStep {
    this.user = credentials.user;
    return this.auth(credentials);
  }

  /**
   * A SASL exchange wants another response: `pending` waits for it, the parser reads the
   * next line as a response, and `challenge` (the protocol's wire form) goes out.
   */
  protected saslChallenge(exchange: SaslExchange, pending: Sasl, challenge: string): FrontendStep {
    if (exchange.login !== undefined) this.user = exchange.login;
    this.sasl = pending;
    this.parser.expectResponse();
    return send(challenge);
  }

  /** Sends `data`, then closes; the session ends here. */
  protected close(data: string, reason: string): FrontendStep {
    this.phase = "closed";
    this.sasl = null;
    return closeWith(data, reason);
  }

  /** `starttls only` without TLS blocks the login commands. */
  protected loginDisabled(): boolean {
    return loginNeedsTls(this.secure, this.config);
  }
}
