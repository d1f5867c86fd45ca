/**
 * The parts of nginx.conf outside `mail {}` that matter to a mail proxy: `worker_*`
 * directives with a key in the schema, `error_log` (the top-level `error_log`, unless
 * `mail {}` has its own),
 * the mail module's `load_module`, and `events {}`. Everything else is reported with
 * advice on where the setting lives for mailproxy.
 * @module
 */

import { findKey } from "../config/mod.ts";
import { parseErrorLog } from "../config/mod.ts";
import { keyForDirective } from "./key_index.ts";
import type { Level } from "./level.ts";
import { convertDirective } from "./mail_block.ts";
import type { Directive } from "./parse.ts";
import type { ConvertSession } from "./session.ts";
import { resolve } from "node:path";

/** Where main-context settings live when running mailproxy. */
const ADVICE: Record<string, string> = {
  user:
    "mailproxy does not switch users; run it as a service user (User= or DynamicUser= in packaging/mailproxy.service)",
  pid: "mailproxy writes no pid file; the service manager tracks the process",
  daemon: "mailproxy always runs in the foreground; the service manager runs it in the background",
  master_process: "mailproxy has no master process",
  worker_rlimit_nofile: "set the open-file limit with LimitNOFILE= in packaging/mailproxy.service",
  env: "set the environment in the service manager (Environment= in the systemd unit)",
  load_module: "mailproxy has no dynamic modules",
  http: "not part of the mail proxy; mailproxy proxies mail only",
  stream: "not part of the mail proxy; mailproxy proxies mail only",
  server: "a server {} belongs inside mail {}",
};
const MAIN_DEFAULT = "not a mail directive; mailproxy has no equivalent";

const EVENTS_ADVICE: Record<string, string> = {
  worker_connections:
    "mailproxy has no per-worker connection limit (nginx's also counts backend connections); " +
    (findKey("top", "max_connections") ? "max_connections limits client connections, and " : "") +
    "the open-file limit (LimitNOFILE=) bounds the sessions",
};
const EVENTS_DEFAULT = "the event loop belongs to the runtime; mailproxy has no equivalent";

/** Main-context `error_log` entries, for the top-level `error_log` when `mail {}` has none. */
export interface LogOut {
  entries: { value: string; directive: Directive }[];
  /** Set once main-context entries went into the top-level error_log. */
  fromMain?: boolean;
}

/** Converts one main-context directive (not `mail`) into the top level or `log`. */
export function convertMainDirective(session: ConvertSession, d: Directive, top: Level, log: LogOut): void {
  if (d.name === "") return top.comment(d.comments);
  if (d.name === "events" && d.block) return convertEvents(session, d, top);
  if (d.name === "error_log" && !d.block) return convertErrorLog(session, d, top, log);
  if (d.name === "load_module" && d.args.length === 1 && /ngx_mail_module/.test(d.args[0])) {
    return top.comment([...d.comments, ` ${d.name} ${d.args[0]}: not needed, mail support is built in`]);
  }
  const spec = keyForDirective(d.name);
  if (spec && spec.kind !== "table_array") return convertDirective(session, d, top, "main");
  session.report(d, ADVICE[d.name] ?? MAIN_DEFAULT, top);
}

function convertEvents(session: ConvertSession, events: Directive, top: Level): void {
  top.comment([...events.comments, ...events.trailing]);
  for (const d of session.expand(events.block ?? [])) {
    if (d.name === "") top.comment(d.comments);
    else session.report(d, EVENTS_ADVICE[d.name] ?? EVENTS_DEFAULT, top);
  }
  top.comment(events.endComments);
}

/**
 * nginx's main-context error_log also takes the mail module's lines when `mail {}` sets
 * none: it becomes the top-level `error_log` (convert.ts decides once the mail block is read).
 */
function convertErrorLog(session: ConvertSession, d: Directive, top: Level, log: LogOut): void {
  if (d.args.length < 1 || d.args.length > 2) {
    return session.report(d, `invalid "error_log" directive (expected FILE [LEVEL])`, top);
  }
  const [target, ...level] = d.args;
  const special = target === "stderr" || target.includes(":");
  const value = [special ? target : resolve(session.opts.baseDir, target), ...level].join(" ");
  const parsed = parseErrorLog(value, session.opts.baseDir);
  if (!parsed.ok) return session.report(d, `invalid "error_log" directive: ${parsed.error}`, top);
  log.entries.push({ value, directive: d });
}
