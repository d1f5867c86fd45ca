/**
 * The state and Frontend wiring every front end shares: the command parser, the
 * server settings, the SASL policy and `max_errors` counter, TLS, the phase, a
 * pending SASL exchange and the login name. Each protocol's front end extends it and
 * keeps only its wire text and command rules. A class (not a per-command closure)
 * so that the login path costs no extra allocation or call hop.
 * @module
 */

import type { AuthOk } from "../../auth/mod.ts";
import type { ServerConfig } from "../../config/mod.ts";
import type { SaslExchange, SaslPolicy } from "../../sasl/mod.ts";
import type { FrontendContext, FrontendStep } from "../types.ts";
import { closeWith, loginNeedsTls } from "./frontend_steps.ts";
import { ErrorCounter, saslPolicy } from "./pre_auth.ts";

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

/** The settings the shared part reads. */
export type FrontendBaseOptions = Pick<ServerConfig, "max_errors" | "server_name" | "starttls">;

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

  /**
   * `methods`: the protocol's `*_auth` list; `salt`: the APOP/CRAM-MD5 salt when the
   * protocol shows one (POP3).
   */
  constructor(
    config: Config,
    ctx: FrontendContext,
    parser: Parser,
    methods: readonly string[],
    start: Start,
    salt?: string,
  ) {
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

  /** Client bytes received after the command that completed authentication. */
  takePipelined(): Uint8Array {
    return this.parser.take();
  }

  /** The client finished a STARTTLS handshake: a pending exchange is forgotten. */
  tlsEstablished(): void {
    this.secure = true;
    this.sasl = null;
  }

  /** The auth service's Auth-User (if any) becomes the login name for the backend login. */
  protected adoptAuthUser(ok: AuthOk): void {
    if (ok.user !== undefined) this.user = ok.user;
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
