/**
 * The process's log outputs: stderr through one batch writer (flushed at exit), and the
 * {@link LogOutputs} the CLI makes once and owns.
 * @module
 */

import process from "node:process";
import { BatchWriter } from "./batch_writer.ts";
import { LogOutputs } from "./outputs.ts";

/** stderr, in batches of a few milliseconds (see batch_writer.ts); flushed at exit. */
const stderrBatches = new BatchWriter();
process.on("exit", () => stderrBatches.flush());

/** Writes pending stderr lines now (before an abrupt exit or a direct stderr write). */
export function flushLogs(): void {
  stderrBatches.flush();
}

/**
 * The outputs of this process, writing stderr through the process's one batch writer.
 * The CLI makes one and owns it (configure at start and on reload, reopen on SIGUSR1,
 * close before exit).
 */
export function createLogOutputs(): LogOutputs {
  const outputs = new LogOutputs(stderrBatches);
  // Last resort for an exit that did not close them: at least the batches are written.
  process.on("exit", () => outputs.flush());
  return outputs;
}
