/**
 * Logs in to the POP3 backend on the user's behalf (spec §5.2): wait for the `+OK`
 * greeting, send `USER <login>`, then `PASS <password>`, each reply starting with
 * `+OK`; the backend's reply to PASS is what the client receives as the answer to its
 * PASS, APOP or AUTH. APOP and SASL clients are logged in the same way, with the
 * password from `Auth-Pass`. Replies are read by nginx's rules
 * (`../common/backend_replies.ts`); with `proxy_pass_error_message` an unexpected
 * reply (e.g. CommuniGate's `-ERR` after a correct password) reaches the client verbatim.
 *
 * Deliberate divergence from nginx: a login or password with CR, LF or NUL (only
 * possible from `Auth-User`/`Auth-Pass`; client input is refused earlier) is never
 * written into the raw USER/PASS lines, where it would start another command; the
 * client gets the internal error instead.
 * @module
 */

import type { AuthOk } from "../../auth/mod.ts";
import { isUnsafeCredential } from "../../sasl/mod.ts";
import { fromBinary } from "../../util/bytes.ts";
import { type BackendReplies, startsWithText } from "../common/backend_replies.ts";
import { backendCredentials, type BackendRepliesConfig } from "../common/backend_credentials.ts";
import type { BackendLogin, BackendStep } from "../types.ts";
import type { Credentials } from "../../types.ts";

import { INTERNAL_ERROR } from "./lines.ts";

/** What the next backend reply answers. */
type State = "greeting" | "user" | "password";

const WHAT: Record<State, string> = {
  greeting: "greeting",
  user: "user name",
  password: "password",
};

/** One backend login dialogue, created by the POP3 front end. */
export class Pop3BackendLogin implements BackendLogin {
  readonly #replies: BackendReplies;
  readonly #user: string;
  readonly #pass: string;
  #state: State = "greeting";

  /** `ok.user` / `ok.pass` (Auth-User / Auth-Pass) replace the client's login and password. */
  constructor(
    config: BackendRepliesConfig,
    ok: AuthOk,
    credentials: Credentials,
  ) {
    ({ user: this.#user, pass: this.#pass, replies: this.#replies } = backendCredentials(
      config,
      ok,
      credentials,
      INTERNAL_ERROR,
    ));
  }

  receive(data: Uint8Array): BackendStep | null {
    const reply = this.#replies.read(data);
    if (!(reply instanceof Uint8Array)) return reply;
    if (!startsWithText(reply, 0, "+OK")) return this.#replies.invalid(reply, WHAT[this.#state]);
    switch (this.#state) {
      case "greeting":
        if (isUnsafeCredential(this.#user) || isUnsafeCredential(this.#pass)) {
          return this.#replies.fail(
            INTERNAL_ERROR,
            "auth server sent a login or password with CR, LF or NUL",
          );
        }
        this.#state = "user";
        return this.#replies.send(`USER ${this.#user}\r\n`);
      case "user":
        this.#state = "password";
        return this.#replies.send(`PASS ${this.#pass}\r\n`);
      case "password":
        return this.#replies.done();
    }
  }

  internalError(): Uint8Array {
    return fromBinary(INTERNAL_ERROR);
  }
}
