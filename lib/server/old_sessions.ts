/**
 * nginx's `worker_shutdown_timeout` after a reload: the sessions started under a replaced
 * configuration are ended once that configuration's timeout has passed since the reload
 * (in nginx the old workers, which carry the old configuration, set the timer when told
 * to quit). Sessions keep the config they started with, so each reload retires exactly
 * the sessions that started since the previous one: they are remembered by id here
 * rather than tagged in the session registry, which needs no change to the session code.
 * A session registers synchronously when it is accepted (runSession), so at the moment
 * of a reload every session of the outgoing configuration is in the registry.
 * @module
 */

import { SHUTDOWN_REASON } from "../session/mod.ts";
import type { SessionRegistry } from "../session/mod.ts";
import { unrefTimer } from "../util/timers.ts";

/** Retires the sessions of each replaced configuration; one per process. */
export class OldSessions {
  /** Ids of live sessions that already belong to a replaced configuration. */
  #retired = new Set<string>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(
    private readonly registry: SessionRegistry,
    private readonly onExpire: (ended: number, timeoutMs: number) => void = () => {},
  ) {}

  /**
   * Called when a reload replaces the configuration: the sessions started under it (all
   * live ones not retired before) are ended after `timeoutMs`, the replaced configuration's
   * `worker_shutdown_timeout`; null leaves them running, as nginx does without it.
   * Returns how many sessions the replaced configuration had.
   */
  retire(timeoutMs: number | null): number {
    const live = new Set(this.registry.list().map((s) => s.id));
    const outgoing = new Set<string>();
    for (const id of live) if (!this.#retired.has(id)) outgoing.add(id);
    // Forget finished sessions, so the set stays as small as the sessions it names.
    this.#retired = new Set([...this.#retired].filter((id) => live.has(id)));
    for (const id of outgoing) this.#retired.add(id);
    if (timeoutMs !== null && outgoing.size > 0) {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        // Pre-login sessions get the shutdown goodbye; relayed ones are closed (goodbye.ts).
        const ended = this.registry.killWhere((info) => outgoing.has(info.id), SHUTDOWN_REASON);
        this.onExpire(ended.length, timeoutMs);
      }, timeoutMs);
      // A pending retirement must not keep a stopping process alive.
      unrefTimer(timer);
      this.#timers.add(timer);
    }
    return outgoing.size;
  }

  /** Cancels pending retirements (the process stops and ends every session itself). */
  clear(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }
}
