/**
 * One value per minute over the last hour, for the status page's charts: a count
 * (`sum`: logins per minute) or a level (`max`: the most sessions seen in the minute).
 * @module
 */

const MINUTE = 60_000;
/** Minutes kept: the charts show the last hour. */
export const HISTORY_MINUTES = 60;

/** A ring of per-minute values covering the last hour. */
export class MinuteHistory {
  readonly #values = new Array<number>(HISTORY_MINUTES).fill(0);
  /** Absolute minute (time / 60 000) each ring position holds. */
  readonly #minutes = new Array<number>(HISTORY_MINUTES).fill(-1);

  constructor(readonly mode: "sum" | "max", readonly now: () => number = Date.now) {}

  /** Adds `n` events (sum) or records a level (max) now. */
  record(n: number): void {
    const minute = Math.floor(this.now() / MINUTE);
    const i = minute % HISTORY_MINUTES;
    if (this.#minutes[i] !== minute) {
      this.#minutes[i] = minute;
      this.#values[i] = 0;
    }
    this.#values[i] = this.mode === "sum" ? this.#values[i] + n : Math.max(this.#values[i], n);
  }

  /** The last hour, oldest minute first, the current minute last; minutes without data are 0. */
  series(): number[] {
    const current = Math.floor(this.now() / MINUTE);
    const out: number[] = [];
    for (let k = HISTORY_MINUTES - 1; k >= 0; k--) {
      const minute = current - k;
      const i = ((minute % HISTORY_MINUTES) + HISTORY_MINUTES) % HISTORY_MINUTES;
      out.push(this.#minutes[i] === minute ? this.#values[i] : 0);
    }
    return out;
  }
}
