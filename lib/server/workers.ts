/**
 * `worker_processes`: N processes share every listening socket through SO_REUSEPORT, so the
 * kernel spreads new connections over N event loops (one event loop saturates one core). The
 * process an administrator starts is the supervisor and also worker 0; it starts N-1 copies of
 * itself (same runtime, same command line, {@link WORKER_ENV} set), forwards SIGTERM, SIGINT and
 * SIGHUP to them, and restarts a copy that dies while running. Unlike nginx there is no
 * separate master: each process is a full mailproxy. Only the supervisor serves the admin
 * API; when there is one, each copy serves its admin app on a private UNIX socket
 * (worker_admin.ts) and the supervisor's API asks every copy through {@link WorkerLink}s,
 * so /status, /metrics and /sessions cover all processes.
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import process from "node:process";
import type { WorkerLink } from "../admin/mod.ts";
import {
  createPrivateDir,
  removePrivateDir,
  removeStaleSocket,
  requestWorker,
  WORKER_ADMIN_ENV,
  workerSocketPath,
} from "./worker_admin.ts";

/** Set (to the worker's index) in the environment of the copies the supervisor starts. */
export const WORKER_ENV = "MAILPROXY_WORKER";

/** A restarted worker waits this long first, so a copy that cannot start does not spin. */
const RESTART_DELAY_MS = 1000;

/** The number of processes `worker_processes` asks for (`"auto"`: one per CPU). */
export function workerCount(setting: number | "auto"): number {
  return setting === "auto" ? Math.max(1, availableParallelism()) : Math.max(1, setting);
}

/** This process's worker index: 0 for the supervisor (or a single process). */
export function workerIndex(): number {
  const value = Number(process.env[WORKER_ENV] ?? 0);
  return Number.isInteger(value) && value > 0 ? value : 0;
}

/**
 * How to start a copy of this process: the runtime binary and the arguments after it, runtime
 * flags included (`run --allow-net … main.ts --config …`), read from /proc/self/cmdline. Null
 * where that does not exist: SO_REUSEPORT spreads connections only on Linux anyway.
 */
export function ownCommandLine(): { command: string; args: string[] } | null {
  try {
    const argv = new TextDecoder().decode(readFileSync("/proc/self/cmdline")).split("\0");
    if (argv.at(-1) === "") argv.pop();
    return argv.length > 0 ? { command: process.execPath, args: argv.slice(1) } : null;
  } catch {
    return null;
  }
}

/** Logging hooks of the supervisor. */
export interface SupervisorLog {
  info(message: string): void;
  error(message: string): void;
}

/** Starts and watches the copies 1 … count-1. */
export class WorkerSupervisor {
  readonly #children = new Map<number, ChildProcess>();
  readonly #exited = new Map<number, Promise<void>>();
  readonly #restarts = new Map<number, number>();
  /** The 0700 directory of the copies' admin sockets; null without an admin API. */
  #privateDir: string | null = null;
  #stopping = false;

  /** `privateAdmin`: the copies serve their admin app to the supervisor (when it has an admin API). */
  constructor(
    readonly count: number,
    readonly commandLine: { command: string; args: string[] },
    readonly log: SupervisorLog,
    readonly privateAdmin = false,
  ) {}

  /** Starts every copy. */
  start(): void {
    if (this.privateAdmin) {
      try {
        this.#privateDir = createPrivateDir();
      } catch (err) {
        // The proxy runs on; the admin API then shows the copies as down.
        this.log.error(`cannot create the workers' admin socket directory: ${(err as Error).message}`);
      }
    }
    for (let i = 1; i < this.count; i++) this.#spawn(i);
  }

  /** The copies, for the admin API: pid, restarts, and a request to the copy's private endpoint. */
  links(): WorkerLink[] {
    const out: WorkerLink[] = [];
    for (let index = 1; index < this.count; index++) {
      const socket = this.#privateDir === null ? null : workerSocketPath(this.#privateDir, index);
      out.push({
        index,
        pid: this.#children.get(index)?.pid ?? null,
        restarts: this.#restarts.get(index) ?? 0,
        request: (method, target, timeoutMs) =>
          socket === null ? Promise.resolve(null) : requestWorker(socket, method, target, timeoutMs),
      });
    }
    return out;
  }

  #spawn(index: number): void {
    const env: Record<string, string | undefined> = { ...process.env, [WORKER_ENV]: String(index) };
    delete env[WORKER_ADMIN_ENV];
    if (this.#privateDir !== null) env[WORKER_ADMIN_ENV] = workerSocketPath(this.#privateDir, index);
    const child = spawn(this.commandLine.command, this.commandLine.args, {
      env,
      stdio: ["ignore", "inherit", "inherit"],
    });
    this.#children.set(index, child);
    this.#exited.set(
      index,
      new Promise((resolve) => {
        child.once("error", (err) => {
          this.log.error(`worker ${index} could not start: ${err.message}`);
          resolve();
        });
        child.once("exit", (code, signal) => {
          this.#children.delete(index);
          if (this.#privateDir !== null) removeStaleSocket(workerSocketPath(this.#privateDir, index));
          resolve();
          if (this.#stopping) return;
          this.log.error(`worker ${index} exited (${signal ?? `code ${code}`}); restarting it`);
          setTimeout(() => {
            if (this.#stopping) return;
            this.#restarts.set(index, (this.#restarts.get(index) ?? 0) + 1);
            this.#spawn(index);
          }, RESTART_DELAY_MS);
        });
      }),
    );
    this.log.info(`worker ${index} started (pid ${child.pid})`);
  }

  /** Sends `signal` to every running copy (SIGHUP: each reloads its config; SIGUSR1: reopens its logs). */
  signal(signal: "SIGTERM" | "SIGINT" | "SIGHUP" | "SIGUSR1"): void {
    for (const child of this.#children.values()) {
      try {
        child.kill(signal);
      } catch {
        // Exited meanwhile.
      }
    }
  }

  /** Forwards `signal` and waits for every copy; SIGKILL to those still running after `graceMs`. */
  async stop(signal: "SIGTERM" | "SIGINT", graceMs: number): Promise<void> {
    this.#stopping = true;
    this.signal(signal);
    const timer = setTimeout(() => {
      for (const child of this.#children.values()) child.kill("SIGKILL");
    }, graceMs);
    await Promise.all(this.#exited.values());
    clearTimeout(timer);
    if (this.#privateDir !== null) removePrivateDir(this.#privateDir);
    this.#privateDir = null;
  }
}

/**
 * In the supervisor, the supervisor of the copies `worker_processes` asks for, not started
 * yet (its links go to the admin API before the copies run); null in a copy, with one
 * process, or where this process's command line cannot be read. `privateAdmin`: see
 * {@link WorkerSupervisor}.
 */
export function planWorkers(
  setting: number | "auto",
  log: SupervisorLog,
  privateAdmin: boolean,
): WorkerSupervisor | null {
  const count = workerCount(setting);
  if (workerIndex() > 0 || count <= 1) return null;
  const commandLine = ownCommandLine();
  if (!commandLine) {
    log.error(`worker_processes ${count}: cannot read this process's command line; running one process`);
    return null;
  }
  return new WorkerSupervisor(count, commandLine, log, privateAdmin);
}

/** In a copy started by a supervisor with an admin API: the socket path of its private endpoint. */
export function ownWorkerAdminSocket(): string | null {
  return workerIndex() > 0 ? process.env[WORKER_ADMIN_ENV] || null : null;
}
