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
import { isUnsafeCredential } from "../../sasl/mod.ts";
import { makeSalt } from "../../sasl/mod.ts";
import { type SaslOutcome, startSasl } from "../../sasl/mod.ts";
import { fromBinary, toBinary, utf8 } from "../../util/bytes.ts";
import { authFailureText, authMethodEnabled, clientLineLimit } from "../common/pre_auth.ts";
import { send } from "../common/frontend_steps.ts";
import { FrontendBase, type ProtocolOptions, type SaslErrorReply } from "../common/frontend_base.ts";
import type { BackendLogin, Frontend, FrontendContext, FrontendStep } from "../types.ts";
import type { Credentials } from "../../types.ts";
import { Pop3BackendLogin } from "./backend_login.ts";
import { pop3AuthMethodsReply, pop3CapaReply } from "./capabilities.ts";
import { Pop3CommandParser, type Pop3Verb } from "./parser.ts";

const GREETING = "+OK POP3 ready";
const OK = "+OK\r\n";
const INVALID = "-ERR invalid command\r\n";
import { POP3_LINES } from "./lines.ts";

/** The server settings the POP3 front end (and its backend login) reads: built once per server. */
export type Pop3Options = ProtocolOptions<"pop3_client_buffer" | "pop3_auth" | "pop3_capabilities">;

/** Where the front end is in the session (besides "auth" and "closed"). */
type Phase = "start" | "user" | "sasl";

/** The POP3 front end: one instance per client connection. */
export class Pop3Frontend extends FrontendBase<Pop3Options, Pop3CommandParser, Phase> implements Frontend {
  readonly #apop: boolean;
  /** Made at connect when APOP or CRAM-MD5 is enabled (spec §4.0.6), shown in the greeting. */
  readonly #salt: string | undefined;

  /** `config`: the server's resolved settings; `ctx`: per-connection facts. */
  constructor(config: Pop3Options, ctx: FrontendContext) {
    const apop = authMethodEnabled(config.pop3_auth, "apop");
    const cramMd5 = authMethodEnabled(config.pop3_auth, "cram-md5");
    const salt = apop || cramMd5 ? makeSalt(config.server_name, ctx.random, ctx.now) : undefined;
    super(
      config,
      ctx,
      new Pop3CommandParser(clientLineLimit(config.pop3_auth, config.pop3_client_buffer)),
      config.pop3_auth,
      "start",
      POP3_LINES,
      salt,
    );
    this.#apop = apop;
    this.#salt = salt;
  }

  greeting(): Uint8Array {
    return fromBinary(this.#salt === undefined ? `${GREETING}\r\n` : `${GREETING} ${this.#salt}\r\n`);
  }

  step(): FrontendStep | null {
    if (this.phase === "auth" || this.phase === "closed") return null;
    const event = this.parser.next();
    if (event === null) return null;
    switch (event.kind) {
      case "too-long":
        return this.close(INVALID, "client sent too long command");
      case "invalid":
        return this.#parseError();
      case "response":
        return this.#saslResponse(event.args);
      case "command":
        return this.phase === "user"
          ? this.#userCommand(event.verb, event.args)
          : this.#startCommand(event.verb, event.args);
    }
  }

  protected authFailureReply(fail: AuthFail): string {
    return `-ERR ${authFailureText(fail.message)}\r\n`;
  }

  protected override saslErrorReply(challenge: string): SaslErrorReply<Phase> {
    return { data: `+ ${challenge}\r\n`, phase: "sasl" };
  }

  backendLogin(ok: AuthOk, credentials: Credentials): BackendLogin {
    this.adoptAuthUser(ok);
    return new Pop3BackendLogin(this.config, ok, credentials);
  }

  override tlsEstablished(): void {
    super.tlsEstablished();
    if (this.phase !== "closed") this.phase = "start";
  }

  #startCommand(verb: Pop3Verb, args: string[]): FrontendStep {
    switch (verb) {
      case "USER": {
        if (this.loginDisabled() || args.length !== 1 || isUnsafeCredential(args[0])) return this.#reject();
        this.user = args[0];
        this.phase = "user";
        return send(OK);
      }
      case "APOP": {
        if (this.loginDisabled() || args.length !== 2 || !this.#apop) return this.#reject();
        const [user, digest] = args;
        if (isUnsafeCredential(user) || isUnsafeCredential(digest)) return this.#reject();
        this.user = user;
        return this.auth({ method: "apop", user, pass: digest, salt: this.#salt });
      }
      case "AUTH":
        if (this.loginDisabled()) return this.#reject();
        if (args.length === 0) return send(pop3AuthMethodsReply(this.config));
        return this.#saslOutcome(startSasl(args[0], args.slice(1), this.policy));
      case "CAPA":
        return this.#capa(!this.secure);
      case "NOOP":
        return send(OK);
      case "QUIT":
        return this.close(OK, "client quit");
      case "STLS":
        if (this.secure || this.config.starttls === "off") return this.#reject();
        // Bytes pipelined behind STLS were sent in clear: drop them (CVE-2014-3556 class).
        this.parser.discard();
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
        return this.auth({ method: "plain", user: this.user ?? "", pass: args[0] });
      case "CAPA":
        // nginx shows the plain list here, never the STLS variants.
        return this.#capa(false);
      case "NOOP":
        return send(OK);
      case "QUIT":
        return this.close(OK, "client quit");
      default:
        return this.#reject();
    }
  }

  #capa(offerStls: boolean): FrontendStep {
    return send(toBinary(utf8(pop3CapaReply(this.config, offerStls))));
  }

  #saslResponse(args: string[]): FrontendStep {
    const errorStep = this.saslErrorResponse(args[0] ?? "", INVALID);
    if (errorStep !== null) return errorStep;
    const exchange = this.sasl;
    this.sasl = null;
    this.phase = "start";
    if (exchange === null) return send(INVALID);
    // Extra tokens on the line are ignored, like nginx does.
    return this.#saslOutcome(exchange.respond(args[0] ?? ""));
  }

  #saslOutcome(outcome: SaslOutcome): FrontendStep {
    switch (outcome.kind) {
      case "error":
        return this.#reject();
      case "credentials":
        return this.saslCredentials(outcome.credentials);
      case "challenge":
        this.phase = "sasl";
        return this.saslChallenge(outcome.exchange, outcome.exchange, `+ ${outcome.challenge}\r\n`);
    }
  }

  /** A parser-level error: counts toward max_errors (spec §4.0.5). */
  #parseError(): FrontendStep {
    this.phase = "start";
    this.sasl = null;
    this.cancelSaslError();
    if (this.errors.count()) return this.close(INVALID, "client sent too many invalid commands");
    return send(INVALID);
  }

  /** A rejection decided after parsing: same reply, not counted; back to the start state. */
  #reject(): FrontendStep {
    this.phase = "start";
    this.sasl = null;
    return send(INVALID);
  }
}
