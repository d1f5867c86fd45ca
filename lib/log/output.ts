/**
 * What every log output is (stderr, a file, syslog): a LogTape sink plus its lifecycle,
 * owned by lib/log/outputs.ts.
 * @module
 */

import type { Sink } from "@logtape/logtape";

/** An open output: a sink plus its lifecycle. */
export interface Output {
  sink: Sink;
  /**
   * The sink turns the record into text before it returns and keeps no reference to it: LogTape
   * may then skip copying the record's properties for it (see {@link markImmediate}).
   */
  immediate?: boolean;
  /** Writes what is batched now (synchronous). */
  flush(): void;
  /** Files: open the path anew (the old file was renamed away). */
  reopen(): void;
  close(): Promise<void>;
}

/**
 * Closes a LogTape sink whichever way it disposes (a non-blocking file sink and the syslog
 * sink are async, a blocking file sink sync); never rejects.
 */
export async function dispose(sink: object): Promise<void> {
  const d = sink as { [Symbol.asyncDispose]?: () => PromiseLike<void>; [Symbol.dispose]?: () => void };
  try {
    if (d[Symbol.asyncDispose]) await d[Symbol.asyncDispose]!();
    else d[Symbol.dispose]?.();
  } catch {
    // Closing a broken output: nothing left to do.
  }
}

/** An error as one line of text. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Tells LogTape that `sink` formats each record before it returns (LogTape's own
 * `markSinkAsImmediate`, which its package does not export; the registered symbol is its
 * cross-version protocol). Without it LogTape snapshots every record's properties for every sink
 * (one more property object and record per line): measured on the login benchmark as part of
 * the logging cost per login (docs/benchmarks.md, issue #19).
 */
export function markImmediate<S extends Sink>(sink: S): S {
  Object.defineProperty(sink, IMMEDIATE, { value: true });
  return sink;
}

const IMMEDIATE = Symbol.for("LogTape.sinkSnapshotPolicy.immediate");
