/**
 * Logging through @logtape/logtape: one line per session event, as human text or
 * JSON lines (for Loki/ELK), to stderr, files and syslog (`error_log`, lib/log/outputs.ts).
 * Every session line carries the session id, which the admin API shows too. Passwords
 * are never passed to a logger.
 * @module
 */

export { getLogger } from "@logtape/logtape";
export { LogOutputs, type LogSettings, textLine } from "./outputs.ts";
export type { ErrorLogTarget, LogLevelName } from "../config/mod.ts";
export { createLogOutputs, flushLogs } from "./process_outputs.ts";
