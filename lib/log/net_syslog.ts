/**
 * `error_log syslog:server=IP[:PORT]` over UDP or TCP, through LogTape's own
 * `@logtape/syslog` sink (RFC 5424 frames; TCP newline-framed as RFC 6587's
 * non-transparent framing).
 * @module
 */

import type { LogRecord } from "@logtape/logtape";
import { getSyslogSink, type SyslogFacility } from "@logtape/syslog";
import process from "node:process";
import { dispose, errorText, type Output } from "./output.ts";
import type { SyslogTarget } from "../config/mod.ts";

/** RFC 5424 facility codes → @logtape/syslog's names for them. */
const FACILITY_NAMES: SyslogFacility[] = [
  "kernel",
  "user",
  "mail",
  "daemon",
  "security",
  "syslog",
  "lpr",
  "news",
  "uucp",
  "cron",
  "authpriv",
  "ftp",
  "ntp",
  "logaudit",
  "logalert",
  "clock",
  "local0",
  "local1",
  "local2",
  "local3",
  "local4",
  "local5",
  "local6",
  "local7",
];

/** Most syslog messages waiting for a slow TCP receiver before new ones are dropped. */
const MAX_SYSLOG_PENDING = 10_000;
/** A failed syslog connection is retried at most this often. */
const SYSLOG_RETRY_MS = 1000;

/**
 * Syslog over UDP or TCP through @logtape/syslog. Its sink chains every message on one
 * promise that stays rejected after a failure, so a failed sink is replaced by a new one
 * (at most once a second; lines in between are dropped and counted), and a receiver that
 * does not keep up cannot make the queue grow without bound.
 */
export function openNetSyslog(
  target: SyslogTarget,
  body: (record: LogRecord) => string,
  complain: (text: string) => void,
): Output {
  const make = () =>
    getSyslogSink({
      hostname: target.host,
      port: target.port,
      protocol: target.transport === "tcp" ? "tcp" : "udp",
      facility: FACILITY_NAMES[target.facility],
      appName: target.tag,
      syslogHostname: target.nohostname ? "" : undefined,
      processId: String(process.pid),
      timeout: 5000,
    });
  let sink: ReturnType<typeof getSyslogSink> | null = make();
  let failedAt = 0;
  let pending = 0;
  let dropped = 0;
  const where = `syslog ${target.transport}:${target.host}:${target.port}`;
  return {
    sink: (record) => {
      if (sink === null) {
        if (Date.now() - failedAt < SYSLOG_RETRY_MS) return void dropped++;
        sink = make();
      }
      if (pending >= MAX_SYSLOG_PENDING) return void dropped++;
      const current = sink;
      pending++;
      current({ ...record, message: [body(record).trimStart()] });
      const done = (current as unknown as { _internal_lastPromise: Promise<void> })._internal_lastPromise;
      done.then(() => {
        if (dropped > 0) {
          complain(`${where}: working again; ${dropped} line(s) were dropped`);
          dropped = 0;
        }
      }, (err) => {
        if (sink === current) {
          sink = null;
          failedAt = Date.now();
          complain(`${where}: ${errorText(err)}; lines are dropped until it works again`);
          void dispose(current);
        }
      }).finally(() => pending--);
    },
    flush: () => {},
    reopen: () => {},
    close: async () => {
      if (sink) await dispose(sink);
      sink = null;
    },
  };
}
