/**
 * The one timeout mechanism of a session and its relay: a re-armable one-shot
 * deadline that can also be pushed forward lazily (an idle timeout).
 *
 * - `arm(ms, onExpire)` starts a period (the pre-auth `timeout`, the backend login's
 *   `timeout`, a step before the greeting); `disarm()` cancels it; `expired` says
 *   whether the last period ran out (the driver then logs "timed out" instead of
 *   "closed").
 * - `touch()` restarts the period without touching the timer: when the timer fires
 *   it re-arms for what is left (the relay's `proxy_timeout`). One timer per period
 *   instead of one per chunk of a bulk transfer.
 * @module
 */

import { MAX_TIMER_MS } from "./timers.ts";

/** `#last` once the period ran out (one field less per relayed session than a flag). */
const EXPIRED = -2;

/** A re-armable deadline (see the module doc). */
export class Deadline {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #ms = 0;
  #onExpire: (() => void) | undefined;
  /** When `touch()` last ran (Date.now()); -1: not since `arm()`; EXPIRED: the period ran out. */
  #last = -1;

  /** Starts a period of `ms`, replacing any running one; `onExpire` runs once when it passes. */
  arm(ms: number, onExpire: () => void): void {
    this.disarm();
    this.#ms = ms;
    this.#onExpire = onExpire;
    this.#last = -1;
    this.#set(ms);
  }

  /** Cancels the running period without expiring (and lets go of its callback). */
  disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#onExpire = undefined;
  }

  /** Restarts the running period from `now` (lazily: the timer is not reset). */
  touch(now = Date.now()): void {
    if (this.#last !== EXPIRED) this.#last = now;
  }

  /** True when the last armed period ran out. */
  get expired(): boolean {
    return this.#last === EXPIRED;
  }

  #set(delay: number): void {
    // One shared callback with the deadline as its argument: no closure per timer.
    this.#timer = setTimeout(Deadline.#fire, Math.min(Math.max(0, delay), MAX_TIMER_MS), this);
  }

  static #fire(d: Deadline): void {
    d.#expire();
  }

  #expire(): void {
    this.#timer = undefined;
    if (this.#last >= 0) {
      const idle = Date.now() - this.#last;
      if (idle < this.#ms) return this.#set(this.#ms - idle);
    }
    const onExpire = this.#onExpire;
    this.#onExpire = undefined;
    this.#last = EXPIRED;
    onExpire?.();
  }
}
