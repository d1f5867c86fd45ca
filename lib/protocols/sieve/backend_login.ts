/**
 * Logs in to the ManageSieve backend on the user's behalf: wait for the capability
 * greeting ending in `OK`, then `AUTHENTICATE "PLAIN"` with the initial response
 * (a quoted string, or a `{N+}` literal when longer than a quoted string may be), and
 * relay the backend's `OK` to the client as the answer to its AUTHENTICATE.
 *
 * Replies are read by nginx's rules (`../common/backend_replies.ts`, `proxy_buffer`
 * cap); a reply is complete once its `OK`/`NO`/`BYE` line has come (capability lines
 * come before it).
 * @module
 */

import type { AuthOk } from "../../auth/mod.ts";
import { encodeBase64 } from "../../sasl/mod.ts";
import { fromBinary } from "../../util/bytes.ts";
import type { Credentials } from "../../types.ts";
import type { BackendReplies } from "../common/backend_replies.ts";
import { backendCredentials, type BackendRepliesConfig } from "../common/backend_credentials.ts";
import type { BackendLogin, BackendStep } from "../types.ts";
import { INTERNAL_ERROR } from "./lines.ts";
import { MAX_QUOTED, responseEnd } from "./parser.ts";

/** What the next backend reply answers. */
type State = "greeting" | "authenticate" | "done";

/** One backend login dialogue, created by the ManageSieve front end. */
export class SieveBackendLogin implements BackendLogin {
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
    if (this.#state === "done") return null;
    const response = responseEnd(reply);
    if (response === null) return null;
    if (this.#state === "greeting") {
      if (response.kind !== "OK") return this.#invalid(reply, "greeting");
      this.#state = "authenticate";
      return this.#replies.send(this.#authenticate());
    }
    if (response.kind !== "OK") return this.#invalid(reply, "AUTHENTICATE");
    this.#state = "done";
    return this.#replies.done();
  }

  internalError(): Uint8Array {
    return fromBinary(INTERNAL_ERROR);
  }

  /** `AUTHENTICATE "PLAIN" <base64(NUL user NUL pass)>` (binary string). */
  #authenticate(): string {
    const token = this.#token();
    const response = token.length <= MAX_QUOTED ? `"${token}"` : `{${token.length}+}\r\n${token}`;
    return `AUTHENTICATE "PLAIN" ${response}\r\n`;
  }

  #invalid(reply: Uint8Array, what: string): BackendStep {
    this.#state = "done";
    const step = this.#replies.invalid(reply, what);
    // The reader scrubs the password; a backend echoing our base64 token would leak it too.
    if (step.kind === "fail") step.log = step.log.split(this.#token()).join("***");
    return step;
  }

  /** base64(NUL user NUL pass), the PLAIN initial response. */
  #token(): string {
    return encodeBase64(`\0${this.#user}\0${this.#pass}`);
  }
}
