/**
 * Adaptive read sizing. A pending read pins its buffer for as long as the peer is
 * silent, and IMAP IDLE sessions stay silent for hours, so sessions start with a
 * small buffer and only grow it while reads keep filling it (bulk transfer).
 * @module
 */

import type { ReadSizing } from "./types.ts";

/** Default sizing: 1 KiB while idle, up to 64 KiB under bulk. */
export const DEFAULT_SIZING: ReadSizing = { min: 1024, max: 65536 };

/** Picks the next buffer size from the last read's fill level. */
export class ReadBuffer {
  #buf: Uint8Array;
  readonly #min: number;
  readonly #max: number;

  constructor(sizing: ReadSizing = DEFAULT_SIZING) {
    this.#min = Math.max(64, Math.min(sizing.min, sizing.max));
    this.#max = Math.max(this.#min, sizing.max);
    this.#buf = new Uint8Array(this.#min);
  }

  /** The buffer for the next read. */
  get buffer(): Uint8Array {
    return this.#buf;
  }

  /**
   * Reports how many bytes the last read returned and gives its view. A full read
   * doubles the next buffer (a fresh one, so the returned view stays valid); a read
   * that used under an eighth of a grown buffer drops back to the minimum.
   */
  filled(n: number): Uint8Array {
    const view = this.#buf.subarray(0, n);
    const size = this.#buf.length;
    if (n === size && size < this.#max) {
      this.#buf = new Uint8Array(Math.min(size * 2, this.#max));
    } else if (size > this.#min && n < size / 8) {
      this.#buf = new Uint8Array(this.#min);
    }
    return view;
  }
}
