/**
 * Event counts over the last minutes, for rates on the status page (Prometheus
 * computes its own rates from the counters; a person looking at the page has no
 * PromQL at hand).
 * @module
 */

const SLOT_MS = 10_000;
/** 15 minutes of 10-second slots: the longest window the status page shows. */
const SLOTS = 90;

/** A ring of per-10-second counts covering the last 15 minutes. */
export class RateWindow {
  readonly #counts = new Array<number>(SLOTS).fill(0);
  /** Absolute slot number (time / SLOT_MS) each ring position currently holds. */
  readonly #slots = new Array<number>(SLOTS).fill(-1);

  constructor(readonly now: () => number = Date.now) {}

  /** Records `n` events now. */
  add(n = 1): void {
    const slot = Math.floor(this.now() / SLOT_MS);
    const i = slot % SLOTS;
    if (this.#slots[i] !== slot) {
      this.#slots[i] = slot;
      this.#counts[i] = 0;
    }
    this.#counts[i] += n;
  }

  /** Events in the last `ms` (rounded up to whole 10-second slots, at most 15 minutes). */
  sum(ms: number): number {
    const current = Math.floor(this.now() / SLOT_MS);
    const span = Math.min(SLOTS, Math.max(1, Math.ceil(ms / SLOT_MS)));
    let total = 0;
    for (let k = 0; k < span; k++) {
      const slot = current - k;
      const i = ((slot % SLOTS) + SLOTS) % SLOTS;
      if (this.#slots[i] === slot) total += this.#counts[i];
    }
    return total;
  }
}
