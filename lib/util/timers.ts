/**
 * Timer helpers that behave the same on Deno (numeric ids) and Bun (Timer objects).
 * @module
 */

/** The longest delay `setTimeout` takes; above it the timer fires at once (both runtimes). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Lets the process exit while `timer` is pending (for housekeeping timers). */
export function unrefTimer(timer: ReturnType<typeof setTimeout>): void {
  if (typeof timer === "number") {
    (globalThis as { Deno?: { unrefTimer(id: number): void } }).Deno?.unrefTimer(timer);
  } else (timer as { unref?: () => void }).unref?.();
}

/**
 * Waits `ms` (any length: waits beyond {@link MAX_TIMER_MS} run as a chain of timers
 * instead of overflowing into an immediate one). Resolves true when the time passed,
 * false as soon as `signal` aborts (or at once when it already has). Never rejects.
 */
export function sleep(ms: number, signal?: AbortSignal, setTimer = setTimeout): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  if (!(ms > 0)) return Promise.resolve(true);
  return new Promise((resolve) => {
    let left = ms;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const arm = () => {
      const chunk = Math.min(left, MAX_TIMER_MS);
      left -= chunk;
      timer = setTimer(() => {
        if (left > 0) return arm();
        signal?.removeEventListener("abort", onAbort);
        resolve(true);
      }, chunk);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    arm();
  });
}
