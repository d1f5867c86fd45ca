/**
 * Logging through @logtape/logtape: one line per session event, as human text or
 * JSON lines (for Loki/ELK). Every session line carries the session id, which the
 * admin API shows too. Passwords are never passed to a logger.
 * @module
 */

import { configureSync, getLogger, jsonLinesFormatter, type LogRecord, resetSync } from "@logtape/logtape";
import process from "node:process";
import type { LogConfig } from "../config/mod.ts";
import { BatchWriter } from "./batch_writer.ts";

export { getLogger };

/** stderr, in batches of a few milliseconds (see batch_writer.ts); flushed at exit. */
const stderrBatches = new BatchWriter();
process.on("exit", () => stderrBatches.flush());

/** Writes pending log lines now (before an abrupt exit or a direct stderr write). */
export function flushLogs(): void {
  stderrBatches.flush();
}

/** Renders a record as `TIME LEVEL [session] message`. */
function textLine(record: LogRecord): string {
  const time = new Date(record.timestamp).toISOString();
  let message = "";
  for (const part of record.message) message += typeof part === "string" ? part : stringify(part);
  const session = record.properties.session;
  const prefix = session ? ` *${session}` : "";
  return `${time} ${record.level.padEnd(7)}${prefix} ${message}\n`;
}

function stringify(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Error) return value.message;
  return JSON.stringify(value) ?? String(value);
}

/** Sets up logging for the process (idempotent: a reload calls it again). */
export function setupLogging(
  config: LogConfig,
  write: (line: string) => void = (l) => stderrBatches.write(l),
): void {
  resetSync();
  const format = config.format === "json" ? jsonLinesFormatter : textLine;
  configureSync({
    reset: true,
    sinks: { out: (record: LogRecord) => write(format(record)) },
    loggers: [
      { category: ["mailproxy"], lowestLevel: config.level, sinks: ["out"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["out"] },
    ],
  });
}
