/**
 * The SMTP client side before proxying (spec §4.3): greeting (after the client host
 * lookup and `smtp_greeting_delay`, which the session driver performs when
 * {@link SmtpFrontend.preGreeting} asks), HELO/EHLO, AUTH via `lib/sasl`, MAIL/RCPT
 * under `smtp_auth none`, RSET, NOOP, QUIT, STARTTLS, `max_errors`, and the hand-over
 * to the auth provider and the backend dialogue. Sans-I/O.
 *
 * Deliberate divergences from nginx (besides those of the parser and `lib/sasl`):
 * - MAIL under `smtp_auth none` forgets what earlier failed AUTH attempts gave, as
 *   nginx does since 1.29.1 (older nginx, e.g. Debian's 1.22, sends the stale login).
 * - The log line for a client talking before the greeting names only the leading
 *   letters (the verb) and the byte count; nginx logs the bytes, which may hold
 *   credentials.
 * @module
 */

import type { AuthFail, AuthOk } from "../../auth/mod.ts";
import { type SaslOutcome, startSasl } from "../../sasl/mod.ts";
import { fromBinary, toBinary, utf8 } from "../../util/bytes.ts";
import { authFailureText, authMethodEnabled, clientLineLimit } from "../common/pre_auth.ts";
import { send } from "../common/frontend_steps.ts";
import { FrontendBase, type ProtocolOptions, type SaslErrorReply } from "../common/frontend_base.ts";
import type { BackendLogin, Frontend, FrontendContext, FrontendStep, PreGreeting } from "../types.ts";
import type { Credentials } from "../../types.ts";
import { SmtpBackendLogin } from "./backend_login.ts";
import { SMTP_LINES } from "./lines.ts";
import { smtpEhloReply, smtpGreeting } from "./capabilities.ts";
import { SmtpCommandParser, type SmtpVerb } from "./parser.ts";

/** The server settings the SMTP front end (and its backend login) reads: built once per server. */
export type SmtpOptions = ProtocolOptions<
  | "smtp_client_buffer"
  | "smtp_auth"
  | "smtp_capabilities"
  | "resolver"
  | "smtp_greeting_delay"
  | "xclient"
  | "proxy_smtp_auth"
>;

const OK = "250 2.0.0 OK\r\n";
const BYE = "221 2.0.0 Bye\r\n";
const START_TLS = "220 2.0.0 Start TLS\r\n";
const INVALID_COMMAND = "500 5.5.1 Invalid command\r\n";
const INVALID_PIPELINING = "503 5.5.0 Improper use of SMTP command pipelining\r\n";
const INVALID_ARGUMENT = "501 5.5.4 Invalid argument\r\n";
const AUTH_REQUIRED = "530 5.7.1 Authentication required\r\n";
const BAD_SEQUENCE = "503 5.5.1 Bad sequence of commands\r\n";
/** The reply prefix of a refused login when the auth service sends no Auth-Error-Code. */
const DEFAULT_AUTH_ERROR = "535 5.7.0";
/** `resolver` off: nginx's host for every SMTP client. */
const UNAVAILABLE = "[UNAVAILABLE]";

/** The SMTP front end: one instance per client connection. */
export class SmtpFrontend extends FrontendBase<SmtpOptions, SmtpCommandParser, "commands">
  implements Frontend {
  readonly #ctx: FrontendContext;
  #host = UNAVAILABLE;
  // What the client said, replayed to the backend and sent to auth_http (spec §3.1, §5.4).
  #esmtp = false;
  #helo = "";
  #from = "";
  #to = "";

  /** `config`: the server's resolved settings; `ctx`: per-connection facts. */
  constructor(config: SmtpOptions, ctx: FrontendContext) {
    super(
      config,
      ctx,
      new SmtpCommandParser(clientLineLimit(config.smtp_auth, config.smtp_client_buffer)),
      config.smtp_auth,
      "commands",
      SMTP_LINES,
    );
    this.#ctx = ctx;
  }

  /** `[UNAVAILABLE]` until the resolver reports (and for good when `resolver` is off). */
  get clientHost(): string {
    return this.#host;
  }

  preGreeting(): PreGreeting {
    return { resolveClientHost: this.config.resolver !== false, delayMs: this.config.smtp_greeting_delay };
  }

  setClientHost(host: string): void {
    this.#host = host;
  }

  earlyInput(data: Uint8Array): FrontendStep {
    this.phase = "closed";
    // Only a verb-like prefix: whatever else came early may be a credential.
    const first = /^[A-Za-z]{0,8}/.exec(toBinary(data))![0];
    return {
      kind: "close",
      data: fromBinary(INVALID_PIPELINING),
      reason: `client was rejected before greeting: "${first}..." (${data.length} bytes)`,
    };
  }

  greeting(): Uint8Array {
    return fromBinary(smtpGreeting(this.config));
  }

  step(): FrontendStep | null {
    if (this.phase !== "commands") return null;
    const event = this.parser.next();
    if (event === null) return null;
    switch (event.kind) {
      case "too-long":
        return this.close(INVALID_COMMAND, "client sent too long command");
      case "invalid":
        return this.#parseError();
      case "response":
        return this.#saslResponse(event.args);
      case "command":
        return this.#command(event.verb, event.args, event.line);
    }
  }

  /** Back to the start state after a refusal: a stored MAIL stays (a new RCPT retries, spec §4.3.4). */
  protected authFailureReply(fail: AuthFail): string {
    return `${fail.errorCode || DEFAULT_AUTH_ERROR} ${authFailureText(fail.message)}\r\n`;
  }

  protected override saslErrorReply(challenge: string): SaslErrorReply<"commands"> {
    return { data: `334 ${challenge}\r\n`, phase: "commands" };
  }

  backendLogin(ok: AuthOk, credentials: Credentials): BackendLogin {
    this.adoptAuthUser(ok);
    return new SmtpBackendLogin(this.config, ok, credentials, {
      esmtp: this.#esmtp,
      helo: this.#helo,
      clientIp: this.#ctx.clientIp ?? "",
      clientHost: this.#host,
    });
  }

  #command(verb: SmtpVerb, args: string[], line: string): FrontendStep {
    switch (verb) {
      case "HELO":
      case "EHLO":
        if (args.length !== 1) return send(INVALID_ARGUMENT);
        this.#helo = args[0];
        this.#from = this.#to = "";
        if (verb === "HELO") return send(`250 ${this.config.server_name}\r\n`);
        this.#esmtp = true;
        return send(toBinary(utf8(smtpEhloReply(this.config, this.secure))));
      case "AUTH":
        if (this.loginDisabled()) return send(INVALID_COMMAND);
        if (args.length === 0) return send(INVALID_ARGUMENT);
        return this.#saslOutcome(startSasl(args[0], args.slice(1), this.policy));
      case "MAIL":
        return this.#mail(args, line);
      case "RCPT":
        if (this.#from === "") return send(BAD_SEQUENCE);
        if (args.length === 0) return send(INVALID_ARGUMENT);
        this.#to = line;
        return this.auth({
          method: "none",
          user: "",
          pass: "",
          smtp: { helo: this.#helo, from: this.#from, to: this.#to },
        });
      case "RSET":
        this.#from = this.#to = "";
        return send(OK);
      case "NOOP":
        return send(OK);
      case "QUIT":
        return this.close(BYE, "client quit");
      case "STARTTLS":
        if (this.secure || this.config.starttls === "off") return send(INVALID_COMMAND);
        // RFC 3207: forget what the client said in clear, and drop what it pipelined.
        this.#helo = this.#from = this.#to = "";
        this.parser.discard();
        return { kind: "starttls", data: fromBinary(START_TLS) };
      case "VRFY":
      case "EXPN":
      case "HELP":
        return send(INVALID_COMMAND);
    }
  }

  #mail(args: string[], line: string): FrontendStep {
    if (!authMethodEnabled(this.config.smtp_auth, "none")) return send(AUTH_REQUIRED);
    if (this.#from !== "") return send(BAD_SEQUENCE);
    if (args.length === 0) return send(INVALID_ARGUMENT);
    this.#from = line;
    // A login from an earlier failed AUTH must not ride along with the `none` request.
    this.user = undefined;
    return send(OK);
  }

  #saslResponse(args: string[]): FrontendStep {
    // RFC 7628 §3.2.3: anything but the dummy response is a protocol error (501).
    const errorStep = this.saslErrorResponse(args[0] ?? "", INVALID_ARGUMENT);
    if (errorStep !== null) return errorStep;
    const sasl = this.sasl;
    this.sasl = null;
    if (sasl === null) return send(INVALID_COMMAND);
    return this.#saslOutcome(sasl.respond(args[0] ?? ""));
  }

  #saslOutcome(outcome: SaslOutcome): FrontendStep {
    switch (outcome.kind) {
      case "error":
        this.sasl = null;
        return send(INVALID_COMMAND);
      case "credentials":
        return this.saslCredentials(outcome.credentials);
      case "challenge":
        return this.saslChallenge(outcome.exchange, outcome.exchange, `334 ${outcome.challenge}\r\n`);
    }
  }

  /** A parser-level error: counts toward max_errors (spec §4.0.5). */
  #parseError(): FrontendStep {
    this.sasl = null;
    this.cancelSaslError();
    if (this.errors.count()) {
      return this.close(INVALID_COMMAND, "client sent too many invalid commands");
    }
    return send(INVALID_COMMAND);
  }
}
