/**
 * Where log lines go: stderr (batched, lib/log/batch_writer.ts), files through
 * `@logtape/file` (file_output.ts), syslog through `@logtape/syslog` (RFC 5424 over UDP or
 * TCP, net_syslog.ts) and unix_syslog.ts (a local datagram socket such as /dev/log) — per `error_log`
 * entry, at the mail level and per server. One {@link LogOutputs} per process owns every
 * open file and socket: a reload keeps the outputs its new config still names and closes
 * the others; SIGUSR1 reopens the files (logrotate, `nginx -s reopen`).
 *
 * Categories: sessions log under ["mailproxy", "session", "<server index>"], so a server
 * with its own error_log gets a logger of its own that overrides the mail-level sinks.
 * @module
 */

import { configureSync, jsonLinesFormatter, type LogRecord, resetSync, type Sink } from "@logtape/logtape";
import type { BatchWriter } from "./batch_writer.ts";
import { openFileOutput } from "./file_output.ts";
import { openNetSyslog } from "./net_syslog.ts";
import { markImmediate, type Output } from "./output.ts";
import { type ErrorLogTarget, LEVEL_RANK, type LogLevelName } from "../config/mod.ts";
import { openUnixSyslog } from "./unix_syslog.ts";

/** What the outputs need from the config (lib/config/types.ts `Config`). */
export interface LogSettings {
  log: { level: LogLevelName; format: "text" | "json" };
  /** Mail level: every line unless a server has its own; null = stderr at `log.level`. */
  error_log: ErrorLogTarget[] | null;
  servers: readonly { index: number; error_log: ErrorLogTarget[] | null }[];
}

/** Renders a record as `TIME LEVEL [*session] message`. */
export function textLine(record: LogRecord): string {
  return `${isoTime(record.timestamp)} ${record.level.padEnd(7)}${body(record)}\n`;
}

/** The last timestamp formatted: a login writes four lines, mostly within one millisecond. */
let lastMs = NaN;
let lastIso = "";

/** `new Date(ms).toISOString()`, reusing the previous line's text within the same millisecond. */
function isoTime(ms: number): string {
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

/** ` *session message` (syslog has its own time and severity). */
function body(record: LogRecord): string {
  let message = "";
  for (const part of record.message) message += typeof part === "string" ? part : stringify(part);
  const session = record.properties.session;
  return `${session ? ` *${session}` : ""} ${message}`;
}

function stringify(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Error) return value.message;
  return JSON.stringify(value) ?? String(value);
}

/** Owns every log output of the process. */
export class LogOutputs {
  readonly #stderr: BatchWriter;
  readonly #outputs = new Map<string, Output>();
  #format: (record: LogRecord) => string = textLine;
  /** Reports an output's own failure (on stderr: the one place that still works). */
  readonly #complain: (text: string) => void;

  constructor(stderr: BatchWriter, complain?: (text: string) => void) {
    this.#stderr = stderr;
    this.#complain = complain ??
      ((text) => stderr.write(`${new Date().toISOString()} error   log output: ${text}\n`));
  }

  /**
   * (Re)configures LogTape for `settings`: opens the outputs it names (keeping those
   * already open), closes the others. Throws if a file cannot be opened (--check has
   * tested it; a reload reports it), leaving the previous setup in place.
   */
  configure(settings: LogSettings): void {
    this.#format = settings.log.format === "json" ? jsonLinesFormatter : textLine;
    const fallback: ErrorLogTarget[] = [{ raw: "stderr", level: settings.log.level, type: "stderr" }];
    const mail = settings.error_log ?? fallback;
    const wanted = new Map<string, ErrorLogTarget>();
    for (const t of [...mail, ...settings.servers.flatMap((s) => s.error_log ?? [])]) {
      wanted.set(keyOf(t), t);
    }
    const opened: [string, Output][] = [];
    try {
      for (const [key, target] of wanted) {
        if (!this.#outputs.has(key)) opened.push([key, this.#open(target)]);
      }
    } catch (err) {
      for (const [, o] of opened) void o.close();
      throw err;
    }
    for (const [key, o] of opened) this.#outputs.set(key, o);

    const sinks: Record<string, Sink> = {};
    const sinkNames = (targets: ErrorLogTarget[], prefix: string) =>
      targets.map((t, i) => {
        const name = `${prefix}${i}`;
        const output = this.#outputs.get(keyOf(t))!;
        const sink = atLevel(output.sink, t.level);
        sinks[name] = output.immediate ? markImmediate(sink) : sink;
        return name;
      });
    const loggers: Parameters<typeof configureSync>[0]["loggers"] = [
      { category: ["mailproxy"], lowestLevel: lowest(mail), sinks: sinkNames(mail, "mail") },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["mail0"] },
    ];
    for (const server of settings.servers) {
      // Inherited (the same entries as the mail level) needs no logger of its own.
      if (server.error_log === null || sameTargets(server.error_log, settings.error_log)) continue;
      loggers.push({
        category: ["mailproxy", "session", String(server.index)],
        lowestLevel: lowest(server.error_log),
        sinks: sinkNames(server.error_log, `server${server.index}.`),
        parentSinks: "override",
      });
    }
    resetSync();
    configureSync({ reset: true, sinks, loggers });

    for (const [key, o] of this.#outputs) {
      if (!wanted.has(key)) {
        this.#outputs.delete(key);
        void o.close();
      }
    }
  }

  /** SIGUSR1: every file output opens its path anew; new lines land in the new file. */
  reopen(): void {
    for (const o of this.#outputs.values()) o.reopen();
  }

  /** Writes everything batched now (synchronous; before exit). */
  flush(): void {
    this.#stderr.flush();
    for (const o of this.#outputs.values()) o.flush();
  }

  /** Flushes and closes every output (files synced, sockets closed). */
  async close(): Promise<void> {
    this.flush();
    const all = [...this.#outputs.values()];
    this.#outputs.clear();
    await Promise.all(all.map((o) => o.close()));
  }

  #open(target: ErrorLogTarget): Output {
    switch (target.type) {
      case "stderr":
        return {
          sink: (record) => this.#stderr.write(this.#format(record)),
          immediate: true,
          flush: () => this.#stderr.flush(),
          reopen: () => {},
          close: () => Promise.resolve(this.#stderr.flush()),
        };
      case "file":
        return openFileOutput(target.path, () => this.#format, this.#complain);
      case "syslog":
        return target.transport === "unix"
          ? openUnixSyslog(target, body, this.#complain)
          : openNetSyslog(target, body, this.#complain);
    }
  }
}

/** Drops records below `level` (each error_log entry has its own level). */
function atLevel(sink: Sink, level: LogLevelName): Sink {
  const min = LEVEL_RANK[level];
  return (record) => {
    if (LEVEL_RANK[record.level] >= min) sink(record);
  };
}

function lowest(targets: ErrorLogTarget[]): LogLevelName {
  let best: LogLevelName = "error";
  for (const t of targets) if (LEVEL_RANK[t.level] < LEVEL_RANK[best]) best = t.level;
  return best;
}

function sameTargets(a: ErrorLogTarget[], b: ErrorLogTarget[] | null): boolean {
  return b !== null && a.length === b.length &&
    a.every((t, i) => keyOf(t) === keyOf(b[i]) && t.level === b[i].level);
}

/** Outputs are shared by every entry naming the same destination (levels differ per entry). */
function keyOf(t: ErrorLogTarget): string {
  switch (t.type) {
    case "stderr":
      return "stderr";
    case "file":
      return `file:${t.path}`;
    case "syslog":
      return `syslog:${t.transport}:${t.host}:${t.port}:${t.path}:${t.facility}:${t.tag}:${t.nohostname}`;
  }
}
