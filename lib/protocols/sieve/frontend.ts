/**
 * The ManageSieve client side before proxying (RFC 5804): the capability greeting,
 * CAPABILITY, NOOP, LOGOUT, STARTTLS (the capability list is sent again once TLS is
 * up, §2.2) and AUTHENTICATE through `lib/sasl` (initial response or continuation:
 * challenges go out as quoted base64 strings, the client answers with a string,
 * `"*"` cancels, §2.1), `max_errors`, and the hand-over to the auth provider and the
 * backend login. Sans-I/O: the session driver feeds bytes and performs the returned
 * steps.
 *
 * Replies: `OK`/`NO` with a quoted human text and, where RFC 5804 §1.3 has one, a
 * response code (`ENCRYPT-NEEDED`, `TAG`, `TRYLATER`); `BYE` when mailproxy closes.
 * Commands that need a login (PUTSCRIPT, LISTSCRIPTS, …) get `NO`; unknown commands and
 * malformed lines get `NO` and count toward `max_errors`; a command longer than
 * `sieve_client_buffer` (a literal announced larger included) gets `BYE` and the
 * session ends, since the client would send the literal's octets anyway.
 * @module
 */

import type { AuthFail, AuthOk } from "../../auth/mod.ts";
import { type SaslOutcome, startSasl } from "../../sasl/mod.ts";
import { fromBinary, toBinary, utf8 } from "../../util/bytes.ts";
import type { Credentials } from "../../types.ts";
import { authFailureText, authMethodEnabled } from "../common/pre_auth.ts";
import { send } from "../common/frontend_steps.ts";
import { FrontendBase, type ProtocolOptions } from "../common/frontend_base.ts";
import type { BackendLogin, Frontend, FrontendContext, FrontendStep } from "../types.ts";
import { SieveBackendLogin } from "./backend_login.ts";
import { sieveCapabilityLines } from "./capabilities.ts";
import { SIEVE_LINES } from "./lines.ts";
import { quoted, SieveCommandParser } from "./parser.ts";

/** The server settings the ManageSieve front end (and its backend login) reads. */
export type SieveOptions = ProtocolOptions<"sieve_client_buffer" | "sieve_auth" | "sieve_capabilities">;

const GREETING_OK = 'OK "ManageSieve ready."\r\n';
const CAPABILITY_OK = 'OK "Capability completed."\r\n';
const NOOP_OK = 'OK "NOOP completed."\r\n';
const LOGOUT_OK = 'OK "Logout completed."\r\n';
const STARTTLS_OK = 'OK "Begin TLS negotiation now."\r\n';
const TLS_OK = 'OK "TLS negotiation successful."\r\n';
const NO_STARTTLS = 'NO "STARTTLS is not available."\r\n';
const ENCRYPT_NEEDED = 'NO (ENCRYPT-NEEDED) "Authentication requires TLS: use STARTTLS first."\r\n';
const NO_MECHANISM = 'NO "Unsupported authentication mechanism."\r\n';
const NO_SASL = 'NO "Invalid SASL exchange."\r\n';
const CANCELLED = 'NO "Authentication cancelled."\r\n';
const AUTH_FIRST = 'NO "Authenticate first."\r\n';
const UNKNOWN = 'NO "Unknown command."\r\n';
const BAD_ARGUMENTS = 'NO "Invalid arguments."\r\n';
const TOO_MANY_ERRORS = 'BYE "Too many invalid commands."\r\n';
const TOO_LONG = 'BYE "Command too long."\r\n';

/** RFC 5804 commands that only make sense once logged in. */
const AFTER_LOGIN = new Set([
  "HAVESPACE",
  "PUTSCRIPT",
  "LISTSCRIPTS",
  "SETACTIVE",
  "GETSCRIPT",
  "DELETESCRIPT",
  "RENAMESCRIPT",
  "CHECKSCRIPT",
  "UNAUTHENTICATE",
]);

/** The ManageSieve front end: one instance per client connection. */
export class SieveFrontend extends FrontendBase<SieveOptions, SieveCommandParser, "commands">
  implements Frontend {
  /** STARTTLS finished: the capability list is owed to the client (RFC 5804 §2.2). */
  #capabilitiesOwed = false;

  /** `config`: the server's resolved settings; `ctx`: per-connection facts. */
  constructor(config: SieveOptions, ctx: FrontendContext) {
    super(
      config,
      ctx,
      new SieveCommandParser(config.sieve_client_buffer),
      config.sieve_auth,
      "commands",
      SIEVE_LINES,
    );
  }

  greeting(): Uint8Array {
    return fromBinary(this.#capabilities() + GREETING_OK);
  }

  step(): FrontendStep | null {
    if (this.phase !== "commands") return null;
    if (this.#capabilitiesOwed) {
      this.#capabilitiesOwed = false;
      return send(this.#capabilities() + TLS_OK);
    }
    const event = this.parser.next();
    if (event === null) return null;
    switch (event.kind) {
      case "too-long":
        return this.close(TOO_LONG, "client sent too long command");
      case "invalid":
        this.sasl = null;
        return this.#error(`NO ${quoted(`Error in command: ${event.reason}.`)}\r\n`);
      case "response":
        return this.#saslResponse(event.args);
      case "command":
        return this.#command(event.verb, event.args);
    }
  }

  protected authFailureReply(fail: AuthFail): string {
    return `NO ${quoted(authFailureText(fail.message))}\r\n`;
  }

  backendLogin(ok: AuthOk, credentials: Credentials): BackendLogin {
    this.adoptAuthUser(ok);
    return new SieveBackendLogin(this.config, ok, credentials);
  }

  override tlsEstablished(): void {
    super.tlsEstablished();
    this.#capabilitiesOwed = true;
  }

  #command(verb: string, args: string[]): FrontendStep {
    switch (verb) {
      case "CAPABILITY":
        if (args.length > 0) return send(BAD_ARGUMENTS);
        return send(this.#capabilities() + CAPABILITY_OK);
      case "NOOP":
        if (args.length > 1) return send(BAD_ARGUMENTS);
        // RFC 5804 §2.13: the optional argument comes back in a TAG response code.
        return send(args.length === 1 ? `OK (TAG ${quoted(args[0])}) "Done."\r\n` : NOOP_OK);
      case "LOGOUT":
        return this.close(LOGOUT_OK, "client logged out");
      case "STARTTLS":
        if (this.secure || this.config.starttls === "off") return send(NO_STARTTLS);
        // Bytes pipelined behind STARTTLS were sent in clear: drop them (CVE-2014-3556 class).
        this.parser.discard();
        return { kind: "starttls", data: fromBinary(STARTTLS_OK) };
      case "AUTHENTICATE":
        return this.#authenticate(args);
      default:
        if (AFTER_LOGIN.has(verb)) return send(AUTH_FIRST);
        return this.#error(UNKNOWN);
    }
  }

  #authenticate(args: string[]): FrontendStep {
    if (this.loginDisabled()) return send(ENCRYPT_NEEDED);
    if (args.length === 0 || args.length > 2) return send(BAD_ARGUMENTS);
    const mechanism = args[0].toLowerCase();
    // Only what "SASL" advertises is accepted (the OAuth mechanisms join sieve_auth's values).
    if (!authMethodEnabled(this.config.sieve_auth, mechanism)) return send(NO_MECHANISM);
    return this.#saslOutcome(startSasl(args[0], args.slice(1), this.policy));
  }

  #saslResponse(args: string[]): FrontendStep {
    const exchange = this.sasl;
    this.sasl = null;
    if (exchange === null) return send(NO_SASL);
    if (args.length === 1 && args[0] === "*") return send(CANCELLED);
    if (args.length !== 1) return send(NO_SASL);
    return this.#saslOutcome(exchange.respond(args[0]));
  }

  #saslOutcome(outcome: SaslOutcome): FrontendStep {
    switch (outcome.kind) {
      case "error":
        this.sasl = null;
        return send(NO_SASL);
      case "credentials":
        return this.saslCredentials(outcome.credentials);
      case "challenge":
        return this.saslChallenge(outcome.exchange, outcome.exchange, `${quoted(outcome.challenge)}\r\n`);
    }
  }

  /** An error that counts toward max_errors (spec §4.0.5). */
  #error(reply: string): FrontendStep {
    if (this.errors.count()) {
      return this.close(reply + TOO_MANY_ERRORS, "client sent too many invalid commands");
    }
    return send(reply);
  }

  #capabilities(): string {
    return toBinary(utf8(sieveCapabilityLines(this.config, this.secure)));
  }
}
