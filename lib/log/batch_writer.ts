/**
 * Log lines are gathered for a few milliseconds and written with one syscall.
 *
 * Why: at `info` a login writes four to five lines; one write per line was ~4 % of
 * mailproxy's CPU per login in the Deno profile (op_write_sync plus the node stream
 * around it). nginx writes each line at once, but it is C; here a 5 ms batch costs
 * nothing a reader would notice and is flushed synchronously at exit, so no line is lost
 * when the process ends (Bun drops process.stderr writes still queued at exit).
 * @module
 */

import { Buffer } from "node:buffer";
import { writeSync } from "node:fs";
import process from "node:process";
import { unrefTimer } from "../util/timers.ts";

/** Where a batch goes: synchronous, returns how many bytes of `bytes` from `offset` it took. */
export type SyncSink = (bytes: Uint8Array, offset: number) => number;

/** Options of {@link BatchWriter}. */
export interface BatchWriterOptions {
  /** Longest time a line waits (ms). */
  delayMs?: number;
  /** A batch this large (UTF-16 units) is written at once. */
  maxChars?: number;
  /** Defaults to fd 2 (stderr) with `writeSync`. */
  sink?: SyncSink;
  /** Used when the sink would block (EAGAIN): hands the rest to a buffered stream. */
  fallback?: (bytes: Uint8Array) => void;
  /** Instead of `sink`: takes each batch as text (a LogTape file sink, lib/log/outputs.ts). */
  deliver?: (text: string) => void;
}

const stderrSink: SyncSink = (bytes, offset) => writeSync(2, bytes, offset);

/** Gathers lines and writes them in batches; {@link flush} writes what is pending now. */
export class BatchWriter {
  #pending = "";
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #delayMs: number;
  readonly #maxChars: number;
  readonly #sink: SyncSink;
  readonly #fallback: (bytes: Uint8Array) => void;
  readonly #deliver: ((text: string) => void) | undefined;

  constructor(opts: BatchWriterOptions = {}) {
    this.#deliver = opts.deliver;
    this.#delayMs = opts.delayMs ?? 5;
    this.#maxChars = opts.maxChars ?? 16_384;
    this.#sink = opts.sink ?? stderrSink;
    this.#fallback = opts.fallback ?? ((bytes) => process.stderr.write(bytes));
  }

  /** Queues one line (with its newline). */
  write(line: string): void {
    this.#pending += line;
    if (this.#pending.length >= this.#maxChars) this.flush();
    else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.flush(), this.#delayMs);
      unrefTimer(this.#timer);
    }
  }

  /** Writes everything pending, synchronously. */
  flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending === "") return;
    if (this.#deliver) {
      const text = this.#pending;
      this.#pending = "";
      try {
        this.#deliver(text);
      } catch {
        // Logging must never take the proxy down; the output reports its own failures.
      }
      return;
    }
    const bytes = Buffer.from(this.#pending);
    this.#pending = "";
    let offset = 0;
    while (offset < bytes.length) {
      try {
        offset += this.#sink(bytes, offset);
      } catch (err) {
        // A non-blocking pipe that is full: let the runtime's stream queue the rest
        // rather than spin; any other failure (closed stderr) drops the batch, as
        // logging must never take the proxy down.
        if ((err as { code?: string }).code === "EAGAIN") this.#fallback(bytes.subarray(offset));
        return;
      }
    }
  }
}
