/**
 * Pre-auth rules every front end applies the same way (spec §4.0): `max_errors`
 * counting, the reply to a refused login, and the `*_auth` method lists.
 * @module
 */

import type { AuthFail } from "../../auth/mod.ts";
import { fromBinary, toBinary, utf8 } from "../../util/bytes.ts";
import type { SaslPolicy } from "../../sasl/mod.ts";
import { makeSalt } from "../../sasl/mod.ts";
import type { FrontendContext, FrontendStep } from "../types.ts";

/**
 * Counts parser-level errors (spec §4.0.5). Rejections decided after parsing are not
 * counted; callers only call {@link ErrorCounter.count} for the former.
 */
export class ErrorCounter {
  readonly #max: number;
  #errors = 0;

  /** `maxErrors`: the `max_errors` setting. */
  constructor(maxErrors: number) {
    this.#max = maxErrors;
  }

  /** Counts one error; true when the limit is reached (send the reply, then close). */
  count(): boolean {
    this.#errors++;
    return this.#errors >= this.#max;
  }
}

/**
 * The auth provider's message as a binary string on one line: auth_http header
 * values already are binary strings; other text (e.g. from a static provider) is
 * sent as UTF-8.
 */
export function authFailureText(message: string): string {
  const line = message.replace(/[\r\n]+/g, " ");
  return /[\u0100-\uffff]/.test(line) ? toBinary(utf8(line)) : line;
}

/**
 * The step for a refused login (spec §3.4): with `Auth-Wait` the reply is sent and
 * the session goes back to its start state, without it the connection closes.
 * `reply` is the protocol's complete reply line (binary string).
 */
export function authFailedStep(reply: string, fail: AuthFail): FrontendStep {
  const data = fromBinary(reply);
  return fail.wait > 0 ? { kind: "send", data } : { kind: "close", data, reason: "client login failed" };
}

/** True when `method` is listed in an `*_auth` setting (the config stores them lower-cased). */
export function authMethodEnabled(methods: readonly string[], method: string): boolean {
  return methods.some((m) => m.toLowerCase() === method);
}

/**
 * What a `*_auth` setting shows: the names of a protocol's `[method, name]` table (in
 * its wire order) whose method is enabled; one method may enable several names.
 */
export function enabledNames(
  table: readonly (readonly [string, string])[],
  methods: readonly string[],
): string[] {
  return table.filter(([method]) => authMethodEnabled(methods, method)).map(([, name]) => name);
}

/**
 * The SASL policy of one session: CRAM-MD5 and EXTERNAL as `*_auth` enables them, and the
 * salt created at the first CRAM-MD5 attempt and reused for later ones (spec §4.0.6) —
 * or `salt` when the protocol made one already (POP3 shows it in the greeting for APOP).
 */
export function saslPolicy(
  methods: readonly string[],
  serverName: string,
  ctx: FrontendContext,
  salt?: string,
): SaslPolicy {
  let made = salt;
  return {
    cramMd5: authMethodEnabled(methods, "cram-md5"),
    external: authMethodEnabled(methods, "external"),
    oauthbearer: authMethodEnabled(methods, "oauthbearer"),
    xoauth2: authMethodEnabled(methods, "xoauth2"),
    salt: () => made ??= makeSalt(serverName, ctx.random, ctx.now),
  };
}

/** The smallest pre-login line limit while an OAuth mechanism is on: a real JWT (several KiB, base64 again) fits. */
export const OAUTH_MIN_CLIENT_BUFFER = 16 * 1024;

/**
 * The pre-login line limit of a session: `*_client_buffer`, raised to
 * {@link OAUTH_MIN_CLIENT_BUFFER} when `oauthbearer` or `xoauth2` is enabled, so
 * bearer tokens fit with the default settings (nginx-compatible configs keep nginx's limit).
 */
export function clientLineLimit(methods: readonly string[], clientBuffer: number): number {
  const oauth = authMethodEnabled(methods, "oauthbearer") || authMethodEnabled(methods, "xoauth2");
  return oauth ? Math.max(clientBuffer, OAUTH_MIN_CLIENT_BUFFER) : clientBuffer;
}
