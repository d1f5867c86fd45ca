/**
 * The pre-auth client command buffer shared by the IMAP and POP3 parsers: bytes are
 * appended at the end and consumed command by command from the front.
 *
 * Deliberate divergence from nginx (spec §4.0.2): nginx keeps a fixed buffer that is
 * reset only when fully consumed, so a short pipelined command that straddles its end
 * is refused as "too long" and what fits depends on TCP segmentation. Here unconsumed
 * bytes move to the front when room is needed, so every command may use the whole
 * limit wherever it starts and results do not depend on how the data was split.
 * @module
 */

const EMPTY = new Uint8Array(0);

/** A compacting byte queue; parsers index `bytes` directly between `start` and `end`. */
export class CommandBuffer {
  #store: Uint8Array = EMPTY;
  #start = 0;
  #end = 0;

  /** The backing store; only `[start, end)` holds unconsumed bytes. Replaced by `push`. */
  get bytes(): Uint8Array {
    return this.#store;
  }

  /** Index of the first unconsumed byte. */
  get start(): number {
    return this.#start;
  }

  /** Index after the last buffered byte. */
  get end(): number {
    return this.#end;
  }

  /** Number of unconsumed bytes. */
  get length(): number {
    return this.#end - this.#start;
  }

  /**
   * Appends `data` (copied: the caller may reuse its buffer). Returns how many
   * positions the unconsumed bytes moved towards index 0, so a parser holding
   * indexes into `bytes` can shift them by the same amount.
   */
  push(data: Uint8Array): number {
    if (data.length === 0) return 0;
    let shift = 0;
    if (this.#end + data.length > this.#store.length) {
      shift = this.#start;
      const used = this.#end - this.#start;
      if (this.#store.length < used + data.length) {
        const grown = new Uint8Array(Math.max(used + data.length, this.#store.length * 2, 256));
        grown.set(this.#store.subarray(this.#start, this.#end), 0);
        this.#store = grown;
      } else {
        this.#store.copyWithin(0, this.#start, this.#end);
      }
      this.#start = 0;
      this.#end = used;
    }
    this.#store.set(data, this.#end);
    this.#end += data.length;
    return shift;
  }

  /** Marks every byte before index `next` as consumed; returns the new `start`. */
  consume(next: number): number {
    this.#start = Math.min(Math.max(next, this.#start), this.#end);
    // Fully consumed: start over at 0, so the store is reused without copying.
    if (this.#start === this.#end) this.#start = this.#end = 0;
    return this.#start;
  }

  /** Removes and returns the unconsumed bytes. */
  take(): Uint8Array {
    const rest = this.#store.slice(this.#start, this.#end);
    this.clear();
    return rest;
  }

  /** Drops every buffered byte and releases the store. */
  clear(): void {
    this.#store = EMPTY;
    this.#start = this.#end = 0;
  }
}
