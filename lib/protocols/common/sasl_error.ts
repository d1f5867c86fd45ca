/**
 * The OAuth error challenge (RFC 7628 §3.2.2, freenginx 1.27.1): when a failed OAuth
 * login comes with `Auth-Error-SASL`, the front end first sends that base64 JSON as a
 * SASL challenge, takes the client's dummy response (`AQ==`, i.e. %x01, or an empty
 * line), and only then sends the protocol's normal failure line. Sans-I/O; one per
 * session, owned by the front end.
 * @module
 */

import type { AuthFail } from "../../auth/mod.ts";

/** How the dummy response went. */
export interface SaslErrorFinish {
  /** The failure to report now (without its challenge). */
  fail: AuthFail;
  /** The client sent `AQ==` or an empty line; anything else is a protocol error. */
  valid: boolean;
}

/** Holds the failure of an OAuth attempt while its error challenge is out. */
export class SaslErrorChallenge {
  #pending: AuthFail | null = null;

  /** The challenge (base64) to send instead of the failure line, or null for the plain failure. */
  begin(fail: AuthFail): string | null {
    if (fail.saslError === undefined) return null;
    const { saslError, ...rest } = fail;
    this.#pending = rest;
    return saslError;
  }

  /** True while the dummy response is awaited. */
  get pending(): boolean {
    return this.#pending !== null;
  }

  /** Forgets a pending challenge (the client started over, or the parser failed). */
  cancel(): void {
    this.#pending = null;
  }

  /** Takes the dummy response (the line's first token, binary string). Call only while pending. */
  finish(response: string): SaslErrorFinish {
    const fail = this.#pending ?? { status: "fail", message: "", wait: 0 };
    this.#pending = null;
    return { fail, valid: response === "" || response === "AQ==" };
  }
}
