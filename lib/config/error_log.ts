/**
 * nginx's `error_log` value: `TARGET [LEVEL]`, where TARGET is `stderr`, a file path or
 * `syslog:server=ADDRESS[,facility=…][,tag=…][,nohostname]` (nginx's syslog syntax; the
 * address may be `unix:/dev/log`). mailproxy adds `transport=tcp` (nginx sends UDP only).
 * Pure: text in, a target or an error out (the config loader checks files; lib/log/outputs.ts
 * opens them).
 * @module
 */

import { isAbsolute, resolve } from "node:path";

/** mailproxy's log levels (LogTape's, without trace/fatal). */
export type LogLevelName = "debug" | "info" | "warning" | "error";

/** A syslog destination. */
export interface SyslogTarget {
  type: "syslog";
  transport: "udp" | "tcp" | "unix";
  /** IP literal (udp/tcp), without brackets. */
  host: string;
  port: number;
  /** unix: the socket path (e.g. /dev/log). */
  path: string;
  /** RFC 5424 facility code (0–23), nginx's default local7 = 23. */
  facility: number;
  /** APP-NAME of each message (nginx's `tag`, default "nginx"; here "mailproxy"). */
  tag: string;
  /** Leave HOSTNAME out (`-`), as nginx's `nohostname`. */
  nohostname: boolean;
}

/** Where one `error_log` entry writes, and from which level on. */
export type ErrorLogTarget =
  & { raw: string; level: LogLevelName }
  & ({ type: "stderr" } | { type: "file"; path: string } | SyslogTarget);

/** nginx's level names (and mailproxy's own `warning`) → mailproxy's levels. */
const LEVELS: Record<string, LogLevelName> = {
  debug: "debug",
  info: "info",
  notice: "info",
  warn: "warning",
  warning: "warning",
  error: "error",
  crit: "error",
  alert: "error",
  emerg: "error",
};

/** nginx's facility names, in code order (ngx_syslog.c). */
const FACILITIES = [
  "kern",
  "user",
  "mail",
  "daemon",
  "auth",
  "intern",
  "lpr",
  "news",
  "uucp",
  "clock",
  "authpriv",
  "ftp",
  "ntp",
  "audit",
  "alert",
  "cron",
  "local0",
  "local1",
  "local2",
  "local3",
  "local4",
  "local5",
  "local6",
  "local7",
];

/** A parsed entry, or why it is invalid. */
export type TargetParse = { ok: true; target: ErrorLogTarget } | { ok: false; error: string };

/**
 * Parses one `error_log` entry (`"/var/log/mail.log info"`); relative file paths resolve
 * against `baseDir`. The level defaults to `error`, as in nginx.
 */
export function parseErrorLog(raw: string, baseDir: string): TargetParse {
  const words = raw.trim().split(/\s+/).filter((w) => w !== "");
  if (words.length < 1 || words.length > 2) {
    return { ok: false, error: `expected "TARGET [LEVEL]", got "${raw}"` };
  }
  const [where, word = "error"] = words;
  const level = LEVELS[word.toLowerCase()];
  if (level === undefined) {
    return {
      ok: false,
      error: `unknown log level "${word}" (expected one of ${Object.keys(LEVELS).join(", ")})`,
    };
  }
  if (where === "stderr") return { ok: true, target: { raw, level, type: "stderr" } };
  if (where.startsWith("syslog:")) {
    const syslog = parseSyslog(where.slice(7));
    return typeof syslog === "string"
      ? { ok: false, error: syslog }
      : { ok: true, target: { raw, level, ...syslog } };
  }
  if (where.startsWith("memory:")) {
    return {
      ok: false,
      error: `"${where}": nginx's memory buffer is a debugging aid mailproxy does not have`,
    };
  }
  return {
    ok: true,
    target: { raw, level, type: "file", path: isAbsolute(where) ? where : resolve(baseDir, where) },
  };
}

/** `server=…,facility=…,tag=…,nohostname[,transport=tcp]` → a target, or an error message. */
function parseSyslog(params: string): SyslogTarget | string {
  let server: string | undefined;
  let transport: "udp" | "tcp" | undefined;
  const out: SyslogTarget = {
    type: "syslog",
    transport: "udp",
    host: "",
    port: 514,
    path: "",
    facility: 23,
    tag: "mailproxy",
    nohostname: false,
  };
  for (const param of params.split(",")) {
    const eq = param.indexOf("=");
    const name = eq < 0 ? param : param.slice(0, eq);
    const value = eq < 0 ? "" : param.slice(eq + 1);
    switch (name) {
      case "server":
        server = value;
        break;
      case "facility": {
        const code = FACILITIES.indexOf(value);
        if (code < 0) return `unknown syslog facility "${value}"`;
        out.facility = code;
        break;
      }
      case "tag":
        // nginx: letters, digits and underscore, at most 32.
        if (!/^[A-Za-z0-9_]{1,32}$/.test(value)) {
          return `syslog "tag" must be 1 to 32 letters, digits or underscores, got "${value}"`;
        }
        out.tag = value;
        break;
      case "severity":
        // nginx uses it for access_log only; an error_log message has its own level.
        return `syslog "severity" applies to access_log in nginx; an error_log message has its own level`;
      case "nohostname":
        if (eq >= 0) return `syslog "nohostname" takes no value`;
        out.nohostname = true;
        break;
      case "transport":
        if (value !== "udp" && value !== "tcp") {
          return `syslog "transport" must be udp or tcp, got "${value}"`;
        }
        transport = value;
        break;
      default:
        return `unknown syslog parameter "${param}"`;
    }
  }
  if (!server) return `no syslog server configured (syslog:server=ADDRESS)`;
  if (server.startsWith("unix:")) {
    if (transport === "tcp") {
      return `syslog over a UNIX socket is a datagram socket: transport=tcp does not apply`;
    }
    const path = server.slice(5);
    if (!isAbsolute(path)) return `syslog UNIX socket path must be absolute, got "${path}"`;
    return { ...out, transport: "unix", path };
  }
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([0-9.]+))(?::(\d{1,5}))?$/.exec(server);
  if (!m) return `syslog server must be an IP address[:port] or unix:PATH, got "${server}"`;
  const host = m[1] ?? m[2];
  if (m[2] !== undefined && !/^(\d{1,3})(\.\d{1,3}){3}$/.test(host)) {
    return `syslog server must be an IP address[:port] or unix:PATH, got "${server}"`;
  }
  const port = m[3] === undefined ? 514 : Number(m[3]);
  if (port < 1 || port > 65535) return `invalid syslog port in "${server}"`;
  const proto = transport ?? "udp";
  // @logtape/syslog sends UDP from an IPv4 socket (udp4).
  if (proto === "udp" && host.includes(":")) {
    return `syslog over UDP to an IPv6 address is not supported (use transport=tcp or an IPv4 address)`;
  }
  return { ...out, transport: proto, host, port };
}

/** Numeric order of the levels (for per-target filtering). */
export const LEVEL_RANK: Record<string, number> = {
  trace: 0,
  debug: 1,
  info: 2,
  warning: 3,
  error: 4,
  fatal: 5,
};
