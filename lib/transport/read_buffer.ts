/**
 * Adaptive read sizing. A pending read pins its buffer for as long as the peer is
 * silent, and IMAP IDLE sessions stay silent for hours, so a connection reads into a
 * small buffer unless data is known to be flowing:
 *
 * - a read that fills its buffer doubles the next one, up to the bulk ceiling;
 * - a read that comes back short of a grown buffer drained the socket, so the next read
 *   may wait for hours: it gets the small buffer (a probe) and the large one is dropped;
 * - a probe that comes back full shows the stream is still flowing: the next read
 *   resumes at the size the stream had reached, not at a new doubling from the minimum;
 * - a producer slower than the proxy drains the socket on every read (Dovecot's 10 MB
 *   FETCH here: reads of 65 483 of 65 536 bytes each time the socket runs dry), and a probe
 *   per read cost ~0.4 CPU s/GB. So once a probe after a short read of m bytes came back
 *   full, later short reads of at least 7/8·m (and 1/8 of the buffer) keep the buffer.
 *   Only such a look-alike last read of a transfer leaves a large read pending, until
 *   the next data in that direction (the next command's reply) comes back short.
 * @module
 */

import type { ReadSizing } from "./types.ts";

/** Size of the reads of an idle connection (the session code's MIN_READ is the same). */
export const IDLE_READ = 1024;

/**
 * The bulk ceiling: relayed reads grow to at least this, whatever the configured buffer
 * (`proxy_buffer`, `*_client_buffer`) says: at nginx's 4 KiB default every 4 KiB cost Deno
 * one read op and one write op (2.1–3.2 CPU s/GB against 0.55 now, docs/benchmarks.md).
 * Bun's sockets size their own reads and do not use this class.
 */
export const BULK_READ = 65536;

/** Default sizing: 1 KiB while idle, up to 64 KiB under bulk. */
export const DEFAULT_SIZING: ReadSizing = { min: IDLE_READ, max: BULK_READ };

/**
 * The sizing of a connection whose configured buffer is `configured` bytes: idle reads
 * of `min(IDLE_READ, configured)`, growing under bulk up to `max(configured, BULK_READ)`.
 */
export function relaySizing(configured: number, idle: number = IDLE_READ): ReadSizing {
  return { min: Math.max(1, Math.min(idle, configured)), max: Math.max(configured, BULK_READ) };
}

/** Picks the next buffer size from the last read's fill level. */
export class ReadBuffer {
  #buf: Uint8Array;
  /** The small buffer, kept: idle reads and probes after a drain use it. */
  readonly #small: Uint8Array;
  readonly #min: number;
  readonly #max: number;
  /** The largest size the stream reached: a full small read resumes there. */
  #peak: number;
  /**
   * The short read that led to the last probe (0 = none, or the probe came back short):
   * short reads like it are mid-transfer once that probe came back full.
   */
  #shortRead = 0;
  /** The buffer in use is the small one after a short read of a grown one. */
  #probing = false;

  constructor(sizing: ReadSizing = DEFAULT_SIZING) {
    this.#min = Math.max(64, Math.min(sizing.min, sizing.max));
    this.#max = Math.max(this.#min, sizing.max);
    this.#small = new Uint8Array(this.#min);
    this.#buf = this.#small;
    this.#peak = this.#min;
  }

  /** The buffer for the next read. */
  get buffer(): Uint8Array {
    return this.#buf;
  }

  /** Size of the buffer the next read will use (what a pending read pins). */
  get size(): number {
    return this.#buf.length;
  }

  /**
   * Reports how many bytes the last read returned and gives its view, valid until the
   * next read. A full read grows the next buffer (a fresh one: the view stays valid);
   * a read short of a grown buffer goes back to the small one, dropping the large one.
   */
  filled(n: number): Uint8Array {
    const buf = this.#buf;
    const size = buf.length;
    const view = n === size ? buf : buf.subarray(0, n);
    if (n === size) {
      this.#probing = false;
      if (size < this.#max) {
        const next = Math.min(this.#max, Math.max(size * 2, this.#peak));
        if (next > this.#peak) this.#peak = next;
        this.#buf = new Uint8Array(next);
      }
    } else if (size > this.#min) {
      const known = this.#shortRead;
      if (known === 0 || n < known - (known >>> 3) || n < size >>> 3) {
        this.#shortRead = n;
        this.#probing = true;
        this.#buf = this.#small;
      }
    } else if (this.#probing) {
      // The probe came back short: that short read was the end of the transfer.
      this.#probing = false;
      this.#shortRead = 0;
    }
    return view;
  }
}
