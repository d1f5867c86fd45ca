/**
 * The IMAP client side before proxying (spec §4.2): greeting, the six pre-auth
 * commands, AUTHENTICATE via `lib/sasl`, STARTTLS, `max_errors`, and the hand-over to
 * the auth provider and the backend login. Sans-I/O: the session driver feeds bytes
 * and performs the returned steps.
 *
 * Deliberate divergences from nginx (besides those of the parser and `lib/sasl`):
 * - LOGIN credentials with CR, LF or NUL (possible in literals and quoted strings) get
 *   `<tag>BAD invalid command` instead of reaching the auth server and the backend.
 * - After a failed login with Auth-Wait the reply tag of the next tag-less error is
 *   `* `; nginx would reuse the failed command's tag.
 * @module
 */

import type { AuthFail, AuthOk } from "../../auth/mod.ts";
import { isUnsafeCredential } from "../../sasl/mod.ts";
import { type SaslExchange, type SaslOutcome, startSasl } from "../../sasl/mod.ts";
import { fromBinary, toBinary, utf8 } from "../../util/bytes.ts";
import { authFailureText, clientLineLimit } from "../common/pre_auth.ts";
import { send } from "../common/frontend_steps.ts";
import { FrontendBase, type ProtocolOptions, type SaslErrorReply } from "../common/frontend_base.ts";
import type { BackendLogin, Frontend, FrontendContext, FrontendStep } from "../types.ts";
import type { Credentials } from "../../types.ts";
import { ImapBackendLogin } from "./backend_login.ts";
import { imapCapabilityLine } from "./capabilities.ts";
import { ImapCommandParser, type ImapVerb } from "./parser.ts";

const GREETING = "* OK IMAP4 ready\r\n";
const OK_COMPLETED = "OK completed\r\n";
const BAD_INVALID = "BAD invalid command\r\n";
import { IMAP_LINES } from "./lines.ts";

/** The server settings the IMAP front end (and its backend login) reads: built once per server. */
export type ImapOptions = ProtocolOptions<
  "imap_client_buffer" | "imap_auth" | "imap_capabilities" | "proxy_auth_mech"
>;

const LITERAL_NEXT = "+ OK\r\n";
const BYE = "* BYE\r\n";
const UNTAGGED = "* ";

/** An AUTHENTICATE waiting for its next response line, with the command's tag. */
type ImapSasl = { exchange: SaslExchange; tag: string };

/** The IMAP front end: one instance per client connection. */
export class ImapFrontend extends FrontendBase<ImapOptions, ImapCommandParser, "commands", ImapSasl>
  implements Frontend {
  /** Tag of the command that completed the credentials (for NO and the backend LOGIN). */
  #authTag = UNTAGGED;

  /** `config`: the server's resolved settings; `ctx`: per-connection facts. */
  constructor(config: ImapOptions, ctx: FrontendContext) {
    super(
      config,
      ctx,
      new ImapCommandParser(clientLineLimit(config.imap_auth, config.imap_client_buffer)),
      config.imap_auth,
      "commands",
      IMAP_LINES,
    );
  }

  greeting(): Uint8Array {
    return fromBinary(GREETING);
  }

  step(): FrontendStep | null {
    if (this.phase !== "commands") return null;
    const event = this.parser.next();
    if (event === null) return null;
    switch (event.kind) {
      case "literal":
        return send(LITERAL_NEXT);
      case "too-long":
        return this.close(tagged(event.tag ?? this.sasl?.tag, BAD_INVALID), "client sent too long command");
      case "invalid":
        return this.#parseError(event.tag ?? this.sasl?.tag, event.close);
      case "response":
        return this.#saslResponse(event.args);
      case "command":
        return this.#command(event.tag, event.verb, event.args);
    }
  }

  protected authFailureReply(fail: AuthFail): string {
    return `${this.#authTag}NO ${authFailureText(fail.message)}\r\n`;
  }

  protected override saslErrorReply(challenge: string): SaslErrorReply<"commands"> {
    return { data: `+ ${challenge}\r\n`, phase: "commands" };
  }

  override unavailable(): Uint8Array {
    return fromBinary(`${this.#authTag === UNTAGGED ? "* " : this.#authTag}${IMAP_LINES.unavailable}`);
  }

  override loginBlocked(): Uint8Array {
    return fromBinary(`${this.#authTag === UNTAGGED ? "* " : this.#authTag}${IMAP_LINES.loginBlocked}`);
  }

  backendLogin(ok: AuthOk, credentials: Credentials): BackendLogin {
    this.adoptAuthUser(ok);
    return new ImapBackendLogin(this.config, ok, credentials, this.#authTag);
  }

  #command(tag: string, verb: ImapVerb, args: string[]): FrontendStep {
    switch (verb) {
      case "NOOP":
        return send(tag + OK_COMPLETED);
      case "CAPABILITY":
        // Extra arguments are ignored, like nginx does.
        return send(toBinary(utf8(imapCapabilityLine(this.config, this.secure))) + tag + OK_COMPLETED);
      case "LOGOUT":
        return this.close(BYE + tag + OK_COMPLETED, "client logged out");
      case "STARTTLS":
        if (this.secure || this.config.starttls === "off") return this.#reject(tag);
        // Bytes pipelined behind STARTTLS were sent in clear: drop them (CVE-2014-3556 class).
        this.parser.discard();
        return { kind: "starttls", data: fromBinary(tag + OK_COMPLETED) };
      case "LOGIN":
        return this.#loginCommand(tag, args);
      case "AUTHENTICATE":
        if (this.loginDisabled() || args.length === 0) return this.#reject(tag);
        return this.#saslOutcome(tag, startSasl(args[0], args.slice(1), this.policy));
    }
  }

  #loginCommand(tag: string, args: string[]): FrontendStep {
    if (this.loginDisabled() || args.length !== 2 || args[0] === "") return this.#reject(tag);
    const [user, pass] = args;
    if (isUnsafeCredential(user) || isUnsafeCredential(pass)) return this.#reject(tag);
    this.user = user;
    return this.#auth(tag, { method: "plain", user, pass });
  }

  #saslResponse(args: string[]): FrontendStep {
    const errorStep = this.saslErrorResponse(args[0] ?? "", `${this.#authTag}BAD invalid SASL response\r\n`);
    if (errorStep !== null) return errorStep;
    const sasl = this.sasl;
    this.sasl = null;
    if (sasl === null) return send(UNTAGGED + BAD_INVALID);
    const usernameStep = sasl.exchange.stage === "login-username";
    const outcome = sasl.exchange.respond(args[0] ?? "");
    // nginx quirk: a bad AUTHENTICATE LOGIN user name gets a reply with no tag at all.
    if (outcome.kind === "error" && usernameStep) return send(BAD_INVALID);
    return this.#saslOutcome(sasl.tag, outcome);
  }

  #saslOutcome(tag: string, outcome: SaslOutcome): FrontendStep {
    switch (outcome.kind) {
      case "error":
        return this.#reject(tag);
      case "credentials":
        this.#authTag = tag;
        return this.saslCredentials(outcome.credentials);
      case "challenge":
        return this.saslChallenge(
          outcome.exchange,
          { exchange: outcome.exchange, tag },
          `+ ${outcome.challenge}\r\n`,
        );
    }
  }

  #auth(tag: string, credentials: Credentials): FrontendStep {
    this.#authTag = tag;
    return this.auth(credentials);
  }

  /** A parser-level error: counts toward max_errors (spec §4.0.5). */
  #parseError(tag: string | undefined, closeAfter: boolean): FrontendStep {
    this.sasl = null;
    this.cancelSaslError();
    const data = tagged(tag, BAD_INVALID);
    if (this.errors.count()) {
      return this.close(data, "client sent too many invalid commands");
    }
    if (closeAfter) return this.close(data, "client sent invalid command with a non-synchronizing literal");
    return send(data);
  }

  /** A rejection decided after parsing: same reply, not counted. */
  #reject(tag: string): FrontendStep {
    this.sasl = null;
    return send(tagged(tag, BAD_INVALID));
  }
}

function tagged(tag: string | undefined, text: string): string {
  return (tag || UNTAGGED) + text;
}
