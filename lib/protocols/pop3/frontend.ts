/**
 * The POP3 client side before proxying (spec §4.1): greeting (with the APOP salt when
 * `apop` or `cram-md5` is enabled), CAPA, USER/PASS, APOP, AUTH via `lib/sasl`, STLS,
 * QUIT, NOOP, `max_errors`, and the hand-over to the auth provider and the backend
 * login. Sans-I/O: the session driver feeds bytes and performs the returned steps.
 *
 * States as in nginx's `ngx_mail_pop3_auth_state`: "start"; "user" after USER (only
 * PASS, CAPA, NOOP and QUIT allowed); "sasl" while an AUTH exchange waits for its
 * next line. Every invalid reply returns to "start".
 *
 * Deliberate divergence from nginx (besides those of the parser and `lib/sasl`):
 * USER, PASS and APOP arguments with a NUL byte get `-ERR invalid command` instead of
 * reaching the auth server and the backend (CR and LF cannot occur: they end the line).
 * @module
 */

import type { AuthFail, AuthOk } from "../../auth/mod.ts";
import type { ServerConfig } from "../../config/mod.ts";
import { isUnsafeCredential } from "../../sasl/mod.ts";
import { makeSalt } from "../../sasl/mod.ts";
import { type SaslExchange, type SaslOutcome, type SaslPolicy, startSasl } from "../../sasl/mod.ts";
import { fromBinary, toBinary, utf8 } from "../../util/bytes.ts";
import {
  authFailedStep,
  authFailureText,
  authMethodEnabled,
  clientLineLimit,
  ErrorCounter,
  saslPolicy,
} from "../common/pre_auth.ts";
import { closeWith, loginNeedsTls, phaseAfterAuthFailure, send } from "../common/frontend_steps.ts";
import { SaslErrorChallenge } from "../common/sasl_error.ts";
import type { BackendLogin, Frontend, FrontendContext, FrontendStep } from "../types.ts";
import type { Credentials } from "../../types.ts";
import { Pop3BackendLogin } from "./backend_login.ts";
import { pop3AuthMethodsReply, pop3CapaReply } from "./capabilities.ts";
import { Pop3CommandParser, type Pop3Verb } from "./parser.ts";

const GREETING = "+OK POP3 ready";
const OK = "+OK\r\n";
const INVALID = "-ERR invalid command\r\n";
import { INTERNAL_ERROR, POP3_LINES } from "./lines.ts";

/** The server settings the POP3 front end (and its backend login) reads: built once per server. */
export type Pop3Options = Pick<
  ServerConfig,
  | "pop3_client_buffer"
  | "max_errors"
  | "pop3_auth"
  | "server_name"
  | "starttls"
  | "pop3_capabilities"
  | "proxy_buffer"
  | "proxy_pass_error_message"
>;

/** Where the front end is in the session. */
type Phase = "start" | "user" | "sasl" | "auth" | "closed";

/** The POP3 front end: one instance per client connection. */
export class Pop3Frontend implements Frontend {
  readonly #config: Pop3Options;
  readonly #parser: Pop3CommandParser;
  readonly #policy: SaslPolicy;
  readonly #errors: ErrorCounter;
  /** A failed OAuth login whose error challenge awaits the client's dummy response. */
  readonly #saslError = new SaslErrorChallenge();
  readonly #apop: boolean;
  /** Made at connect when APOP or CRAM-MD5 is enabled (spec §4.0.6), shown in the greeting. */
  readonly #salt: string | undefined;
  #secure: boolean;
  #phase: Phase = "start";
  /** An AUTH exchange waiting for its next response line. */
  #sasl: SaslExchange | null = null;
  #login: string | undefined;

  /** `config`: the server's resolved settings; `ctx`: per-connection facts. */
  constructor(config: Pop3Options, ctx: FrontendContext) {
    this.#config = config;
    this.#secure = ctx.secure;
    this.#parser = new Pop3CommandParser(clientLineLimit(config.pop3_auth, config.pop3_client_buffer));
    this.#errors = new ErrorCounter(config.max_errors);
    this.#apop = authMethodEnabled(config.pop3_auth, "apop");
    const cramMd5 = authMethodEnabled(config.pop3_auth, "cram-md5");
    const salt = this.#apop || cramMd5 ? makeSalt(config.server_name, ctx.random, ctx.now) : undefined;
    this.#salt = salt;
    this.#policy = saslPolicy(config.pop3_auth, config.server_name, ctx, salt);
  }

  /** Login name once known (binary string); Auth-User replaces it once the backend login starts. */
  get login(): string | undefined {
    return this.#login;
  }

  greeting(): Uint8Array {
    return fromBinary(this.#salt === undefined ? `${GREETING}\r\n` : `${GREETING} ${this.#salt}\r\n`);
  }

  receive(data: Uint8Array): void {
    if (this.#phase !== "closed") this.#parser.push(data);
  }

  step(): FrontendStep | null {
    if (this.#phase === "auth" || this.#phase === "closed") return null;
    const event = this.#parser.next();
    if (event === null) return null;
    switch (event.kind) {
      case "too-long":
        return this.#close(INVALID, "client sent too long command");
      case "invalid":
        return this.#parseError();
      case "response":
        return this.#saslResponse(event.args);
      case "command":
        return this.#phase === "user"
          ? this.#userCommand(event.verb, event.args)
          : this.#startCommand(event.verb, event.args);
    }
  }

  authFailed(fail: AuthFail): FrontendStep {
    const challenge = this.#saslError.begin(fail);
    if (challenge !== null) {
      this.#sasl = null;
      this.#phase = "sasl";
      this.#parser.expectResponse();
      return send(`+ ${challenge}\r\n`);
    }
    return this.#failed(`-ERR ${authFailureText(fail.message)}\r\n`, fail);
  }

  #failed(reply: string, fail: AuthFail): FrontendStep {
    const step = authFailedStep(reply, fail);
    this.#sasl = null;
    // Back to the start state; pipelined commands are processed by the next step() calls.
    this.#phase = phaseAfterAuthFailure(step, this.#phase, "start");
    return step;
  }

  internalError(): Uint8Array {
    return fromBinary(INTERNAL_ERROR);
  }

  unavailable(): Uint8Array {
    return fromBinary(POP3_LINES.unavailable);
  }

  loginBlocked(): Uint8Array {
    return fromBinary(POP3_LINES.loginBlocked);
  }

  backendLogin(ok: AuthOk, credentials: Credentials): BackendLogin {
    if (ok.user !== undefined) this.#login = ok.user;
    return new Pop3BackendLogin(this.#config, ok, credentials);
  }

  takePipelined(): Uint8Array {
    return this.#parser.take();
  }

  tlsEstablished(): void {
    this.#secure = true;
    this.#sasl = null;
    if (this.#phase !== "closed") this.#phase = "start";
  }

  #startCommand(verb: Pop3Verb, args: string[]): FrontendStep {
    switch (verb) {
      case "USER": {
        if (this.#loginDisabled() || args.length !== 1 || isUnsafeCredential(args[0])) return this.#reject();
        this.#login = args[0];
        this.#phase = "user";
        return send(OK);
      }
      case "APOP": {
        if (this.#loginDisabled() || args.length !== 2 || !this.#apop) return this.#reject();
        const [user, digest] = args;
        if (isUnsafeCredential(user) || isUnsafeCredential(digest)) return this.#reject();
        this.#login = user;
        return this.#auth({ method: "apop", user, pass: digest, salt: this.#salt });
      }
      case "AUTH":
        if (this.#loginDisabled()) return this.#reject();
        if (args.length === 0) return send(pop3AuthMethodsReply(this.#config));
        return this.#saslOutcome(startSasl(args[0], args.slice(1), this.#policy));
      case "CAPA":
        return this.#capa(!this.#secure);
      case "NOOP":
        return send(OK);
      case "QUIT":
        return this.#close(OK, "client quit");
      case "STLS":
        if (this.#secure || this.#config.starttls === "off") return this.#reject();
        // Bytes pipelined behind STLS were sent in clear: drop them (CVE-2014-3556 class).
        this.#parser.discard();
        return { kind: "starttls", data: fromBinary(OK) };
      case "PASS":
        return this.#reject();
    }
  }

  /** After USER: PASS completes the login; CAPA, NOOP, QUIT stay; anything else is invalid. */
  #userCommand(verb: Pop3Verb, args: string[]): FrontendStep {
    switch (verb) {
      case "PASS":
        if (args.length !== 1 || isUnsafeCredential(args[0])) return this.#reject();
        return this.#auth({ method: "plain", user: this.#login ?? "", pass: args[0] });
      case "CAPA":
        // nginx shows the plain list here, never the STLS variants.
        return this.#capa(false);
      case "NOOP":
        return send(OK);
      case "QUIT":
        return this.#close(OK, "client quit");
      default:
        return this.#reject();
    }
  }

  #capa(offerStls: boolean): FrontendStep {
    return send(toBinary(utf8(pop3CapaReply(this.#config, offerStls))));
  }

  #saslResponse(args: string[]): FrontendStep {
    if (this.#saslError.pending) {
      const { fail, valid } = this.#saslError.finish(args[0] ?? "");
      return valid ? this.authFailed(fail) : this.#failed(INVALID, fail);
    }
    const exchange = this.#sasl;
    this.#sasl = null;
    this.#phase = "start";
    if (exchange === null) return send(INVALID);
    // Extra tokens on the line are ignored, like nginx does.
    return this.#saslOutcome(exchange.respond(args[0] ?? ""));
  }

  #saslOutcome(outcome: SaslOutcome): FrontendStep {
    switch (outcome.kind) {
      case "error":
        return this.#reject();
      case "credentials":
        this.#login = outcome.credentials.user;
        return this.#auth(outcome.credentials);
      case "challenge":
        if (outcome.exchange.login !== undefined) this.#login = outcome.exchange.login;
        this.#sasl = outcome.exchange;
        this.#phase = "sasl";
        this.#parser.expectResponse();
        return send(`+ ${outcome.challenge}\r\n`);
    }
  }

  #auth(credentials: Credentials): FrontendStep {
    this.#saslError.cancel();
    this.#phase = "auth";
    this.#sasl = null;
    return { kind: "auth", credentials };
  }

  /** A parser-level error: counts toward max_errors (spec §4.0.5). */
  #parseError(): FrontendStep {
    this.#phase = "start";
    this.#sasl = null;
    this.#saslError.cancel();
    if (this.#errors.count()) return this.#close(INVALID, "client sent too many invalid commands");
    return send(INVALID);
  }

  /** A rejection decided after parsing: same reply, not counted; back to the start state. */
  #reject(): FrontendStep {
    this.#phase = "start";
    this.#sasl = null;
    return send(INVALID);
  }

  #close(data: string, reason: string): FrontendStep {
    this.#phase = "closed";
    this.#sasl = null;
    return closeWith(data, reason);
  }

  /** `starttls only` without TLS blocks USER, APOP and AUTH. */
  #loginDisabled(): boolean {
    return loginNeedsTls(this.#secure, this.#config);
  }
}
