/**
 * The work some protocols want before their greeting ({@link PreGreeting}; SMTP,
 * spec §4.3.1–4.3.2): the client host lookup, then the greeting delay during which
 * a client that talks first is answered and dropped. Protocol-neutral: the front
 * end says what it wants and how to answer.
 * @module
 */

import type { Frontend } from "../protocols/mod.ts";
import { addressIp } from "../transport/mod.ts";
import { errorText } from "./context.ts";
import type { SessionScope } from "./scope.ts";

/** How the pre-greeting phase ended. */
export type PreGreetingResult =
  /** Send the greeting; `pending` is a client read already started (await it before reading again). */
  | { go: true; pending: Promise<Uint8Array | null> | null }
  /** The session is over (early talker answered, client gone, or aborted). */
  | { go: false };

/** Runs the front end's pre-greeting work, if it has any. */
export async function preGreeting(s: SessionScope, frontend: Frontend): Promise<PreGreetingResult> {
  const { client, server, log, signal } = s;
  const resolver = s.deps.resolver;
  const plan = frontend.preGreeting?.();
  if (!plan) return { go: true, pending: null };

  if (plan.resolveClientHost && server.resolver !== false) {
    // The client is not read meanwhile, as in nginx; each lookup has resolver_timeout.
    const found = await resolver.lookup(
      addressIp(client.remoteAddr),
      server.resolver,
      server.resolver_timeout,
      signal,
    );
    if (signal.aborted) return { go: false };
    if (found.detail) log.info("client host {host}: {detail}", { host: found.host, detail: found.detail });
    else log.debug("client host {host}", { host: found.host });
    frontend.setClientHost?.(found.host);
  }

  if (plan.delayMs <= 0) return { go: true, pending: null };
  const pending = client.read();
  // Awaited later if the delay wins; until then a read error must not go unhandled.
  pending.catch(() => {});
  let onAbort: (() => void) | undefined;
  const delay = new Promise<"delay">((resolve) => {
    s.deadline.arm(plan.delayMs, () => resolve("delay"));
    onAbort = () => resolve("delay");
    signal.addEventListener("abort", onAbort);
  });
  let first: Uint8Array | null | "delay";
  try {
    first = await Promise.race([pending, delay]);
  } catch (err) {
    log.info("client connection error: {error}", { error: errorText(err) });
    return { go: false };
  } finally {
    s.deadline.disarm();
    signal.removeEventListener("abort", onAbort!);
  }
  if (signal.aborted) return { go: false };
  if (first === "delay") return { go: true, pending };
  if (first === null) {
    log.info("client closed connection");
    return { go: false };
  }
  const step = frontend.earlyInput?.(first);
  if (step && step.kind !== "auth") {
    try {
      await client.write(step.data ?? new Uint8Array(0));
    } catch { /* the client is gone either way */ }
    if (step.kind === "close") log.info("{reason}", { reason: step.reason });
    return step.kind === "close" ? { go: false } : { go: true, pending: null };
  }
  log.info("client sent data before the greeting");
  return { go: false };
}
