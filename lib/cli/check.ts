/**
 * `mailproxy --check`: the config's verdict in the spirit of `nginx -t`.
 *
 * nginx -t does not bind at all; mailproxy tries each port, because a port held by some
 * other program is the most common reason a start fails. But operators run --check on
 * the box where mailproxy already runs, right before a reload, and there every port is
 * "in use" by the proxy itself. So a busy port is judged, not just reported:
 * - the running mailproxy with this very config file answers on the config's admin API
 *   (`GET /status`, with the token): ports among its listeners are its own — a note;
 *   ports it does not hold are held by another program — an error (a reload would
 *   fail to bind them);
 * - the config's admin port is free: no mailproxy with this config runs, so a busy port
 *   is another program's — an error, as before;
 * - nobody can be asked (no admin API, or it does not answer; a UNIX-socket admin API is
 *   asked too, but its socket is no port to find busy): a warning naming the
 *   port; the start would fail on it, a reload of the proxy that holds it would not.
 * Permission and address errors stay errors whatever runs.
 * @module
 */

import { Buffer } from "node:buffer";
import { connect } from "node:net";
import { checkPortsFree, summarizeConfig } from "../config/mod.ts";
import type { BusyPort, Config } from "../config/mod.ts";

/** The running mailproxy as its admin API describes itself. */
export interface RunningProxy {
  pid: number | null;
  /** Bound addresses (`host:port`) of its listeners. */
  listeners: Set<string>;
}

/** Output channels (the CLI's). */
export interface CheckIo {
  out(text: string): void;
  err(text: string): void;
}

/** How {@link runCheck} learns what runs (replaceable in tests). */
export interface CheckProbes {
  busyPorts(config: Config): Promise<BusyPort[]>;
  runningProxy(config: Config): Promise<RunningProxy | null>;
}

const realProbes: CheckProbes = { busyPorts: checkPortsFree, runningProxy: askRunningProxy };

/** Prints the summary (or the errors) and resolves with the exit code: 0 ok, 1 failed. */
export async function runCheck(
  config: Config,
  io: CheckIo,
  probes: CheckProbes = realProbes,
): Promise<number> {
  const verdict = judgeBusyPorts(await probes.busyPorts(config), config, probes);
  const { errors, warnings, notes } = await verdict;
  if (errors.length > 0) {
    for (const line of errors) io.err(`${line}\n`);
    io.err(`mailproxy: configuration file ${config.file} test failed\n`);
    return 1;
  }
  io.out(`${summarizeConfig(config, { warnings, notes })}\n`);
  return 0;
}

async function judgeBusyPorts(
  busy: BusyPort[],
  config: Config,
  probes: CheckProbes,
): Promise<{ errors: string[]; warnings: string[]; notes: string[] }> {
  const errors: string[] = [];
  const warnings: string[] = [];
  const notes: string[] = [];
  const inUse = busy.filter((b) => b.code === "EADDRINUSE");
  for (const b of busy) if (b.code !== "EADDRINUSE") errors.push(`listen "${b.address}": ${b.problem}`);
  if (inUse.length === 0) return { errors, warnings, notes };

  const adminTcp = config.admin.listen?.transport === "tcp";
  const adminBusy = inUse.some((b) => b.admin);
  // A TCP admin port that is free means nothing runs there; a UNIX socket can only be asked.
  const askable = adminBusy || config.admin.listen?.transport === "unix";
  const running = askable ? await probes.runningProxy(config) : null;
  for (const b of inUse) {
    if (running && (b.admin || running.listeners.has(b.address))) {
      const pid = running.pid === null ? "" : ` (pid ${running.pid})`;
      notes.push(`listen "${b.address}": held by the running mailproxy${pid} with this config`);
    } else if (running || (adminTcp && !adminBusy)) {
      // Either the running proxy does not hold it, or none runs with this config (its
      // admin port is free): some other program has it, and binding it would fail.
      errors.push(`listen "${b.address}": address already in use by another program`);
    } else {
      warnings.push(
        `listen "${b.address}": address already in use (by a running mailproxy — fine for a reload — ` +
          "or by another program, which would make a start fail; " +
          (config.admin.listen
            ? "the admin API did not confirm which"
            : "without an admin API nobody can tell") +
          ")",
      );
    }
  }
  return { errors, warnings, notes };
}

/**
 * Asks the config's admin API (`GET /status`, 1 s at most) whether a mailproxy with this
 * config file runs there; null when none answers as such. TCP or UNIX-socket admin.
 */
export async function askRunningProxy(config: Config): Promise<RunningProxy | null> {
  const admin = config.admin.listen;
  if (!admin) return null;
  const headers: Record<string, string> = {};
  if (config.admin.token !== null) headers.authorization = `Bearer ${config.admin.token}`;
  let status: StatusReply;
  try {
    if (admin.transport === "unix") {
      status = JSON.parse(await getOverUnixSocket(admin.host, "/status", headers, 1000));
    } else {
      // A wildcard listen is reached on loopback.
      const host = admin.host === "0.0.0.0" ? "127.0.0.1" : admin.host === "::" ? "::1" : admin.host;
      const url = `http://${host.includes(":") ? `[${host}]` : host}:${admin.port}/status`;
      const res = await fetch(url, { headers, signal: AbortSignal.timeout(1000) });
      if (!res.ok) {
        await res.body?.cancel();
        return null;
      }
      status = await res.json();
    }
  } catch {
    return null;
  }
  if (status?.config_file !== config.file) return null;
  const listeners = new Set<string>();
  for (const l of status.listeners ?? []) if (typeof l.address === "string") listeners.add(l.address);
  const pid = status.workers?.find((w) => w.worker === 0)?.pid;
  return { pid: typeof pid === "number" ? pid : null, listeners };
}

/** The part of `GET /status` that says who runs. */
interface StatusReply {
  config_file?: unknown;
  listeners?: { address?: unknown }[];
  workers?: { worker?: unknown; pid?: unknown }[];
}

/**
 * One HTTP/1.0 GET over a UNIX socket (neither runtime's fetch reaches one the same way);
 * resolves with the body of a 200 reply, rejects otherwise or after `timeoutMs`.
 */
export function getOverUnixSocket(
  path: string,
  uri: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(new Error("timed out")), timeoutMs);
    socket.on("connect", () => {
      const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
      socket.end(`GET ${uri} HTTP/1.0\r\nHost: localhost\r\n${lines}\r\n`);
    });
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString("utf8");
      const head = text.indexOf("\r\n\r\n");
      if (head < 0 || !/^HTTP\/1\.[01] 200 /.test(text)) return reject(new Error("no 200 reply"));
      resolve(text.slice(head + 4));
    });
  });
}
