/**
 * `worker_processes`: N processes share every listening socket through SO_REUSEPORT, so the
 * kernel spreads new connections over N event loops (one event loop saturates one core). The
 * process an administrator starts is the supervisor and also worker 0; it starts N-1 copies of
 * itself (same runtime, same command line, {@link WORKER_ENV} set), forwards SIGTERM, SIGINT and
 * SIGHUP to them, and restarts a copy that dies while running. Unlike nginx there is no
 * separate master: each process is a full mailproxy; only the supervisor serves the admin API,
 * so its /status and /metrics cover its own sessions only.
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import process from "node:process";

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
  #stopping = false;

  constructor(
    readonly count: number,
    readonly commandLine: { command: string; args: string[] },
    readonly log: SupervisorLog,
  ) {}

  /** Starts every copy. */
  start(): void {
    for (let i = 1; i < this.count; i++) this.#spawn(i);
  }

  #spawn(index: number): void {
    const child = spawn(this.commandLine.command, this.commandLine.args, {
      env: { ...process.env, [WORKER_ENV]: String(index) },
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
          resolve();
          if (this.#stopping) return;
          this.log.error(`worker ${index} exited (${signal ?? `code ${code}`}); restarting it`);
          setTimeout(() => {
            if (!this.#stopping) this.#spawn(index);
          }, RESTART_DELAY_MS);
        });
      }),
    );
    this.log.info(`worker ${index} started (pid ${child.pid})`);
  }

  /** Sends `signal` to every running copy (SIGHUP: each reloads its config). */
  signal(signal: "SIGTERM" | "SIGINT" | "SIGHUP"): void {
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
  }
}

/**
 * In the supervisor, starts the copies `worker_processes` asks for; null in a copy, with one
 * process, or where this process's command line cannot be read.
 */
export function startWorkers(setting: number | "auto", log: SupervisorLog): WorkerSupervisor | null {
  const count = workerCount(setting);
  if (workerIndex() > 0 || count <= 1) return null;
  const commandLine = ownCommandLine();
  if (!commandLine) {
    log.error(`worker_processes ${count}: cannot read this process's command line; running one process`);
    return null;
  }
  const supervisor = new WorkerSupervisor(count, commandLine, log);
  supervisor.start();
  return supervisor;
}
