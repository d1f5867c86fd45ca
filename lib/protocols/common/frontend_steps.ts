/**
 * Small steps and rules every front end builds the same way: a reply to send, a
 * reply that ends the session, `starttls only`, and where a refused login leaves
 * the session.
 * @module
 */

import type { ServerConfig } from "../../config/mod.ts";
import { fromBinary } from "../../util/bytes.ts";
import type { FrontendStep } from "../types.ts";

/** Sends `data` (a binary string) to the client; the session goes on. */
export function send(data: string): FrontendStep {
  return { kind: "send", data: fromBinary(data) };
}

/** Sends `data` (a binary string), then closes; `reason` is for the log. */
export function closeWith(data: string, reason: string): FrontendStep {
  return { kind: "close", data: fromBinary(data), reason };
}

/** `starttls only` without TLS yet: the login commands are refused (spec §4.0). */
export function loginNeedsTls(secure: boolean, config: Pick<ServerConfig, "starttls">): boolean {
  return !secure && config.starttls === "only";
}

/**
 * The phase after a refused login (spec §3.4): "closed" when the reply closes the
 * connection; with Auth-Wait, back to `start` if the session was waiting for the auth
 * service (pipelined commands are then processed by the next `step()` calls).
 */
export function phaseAfterAuthFailure<P extends string>(
  step: FrontendStep,
  phase: P,
  start: P,
): P | "closed" {
  if (step.kind === "close") return "closed";
  // "sasl": POP3 waiting for the dummy response after an OAuth error challenge.
  return phase === "auth" || phase === "sasl" ? start : phase;
}
