/**
 * Timer helpers that behave the same on Deno (numeric ids) and Bun (Timer objects).
 * @module
 */

/** Lets the process exit while `timer` is pending (for housekeeping timers). */
export function unrefTimer(timer: ReturnType<typeof setTimeout>): void {
  if (typeof timer === "number") {
    (globalThis as { Deno?: { unrefTimer(id: number): void } }).Deno?.unrefTimer(timer);
  } else (timer as { unref?: () => void }).unref?.();
}
