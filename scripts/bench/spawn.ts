/**
 * Starting the benchmark's own processes (auth service, mailproxy, generators) so that their pid
 * is the measured program itself: `sh -c 'ulimit …; exec …'` keeps the pid through `exec`, and
 * raises the open-file soft limit to the hard one (5 000 idle sessions need ~10 000 sockets).
 * @module
 */

/** A child process started by {@link spawnProcess}. */
export interface Spawned {
  pid: number;
  child: Deno.ChildProcess;
  /** Resolves with the exit status. */
  status: Promise<Deno.CommandStatus>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/** Options of {@link spawnProcess}. */
export interface SpawnOptions {
  /** Append stderr (and stdout unless piped) to this file; default /dev/null. */
  logFile?: string;
  /** Pipe stdout (to read lines from it). */
  pipeStdout?: boolean;
  /** Pipe stdin (to send lines). */
  pipeStdin?: boolean;
  cwd?: string;
  env?: Record<string, string>;
}

// $1: file for stderr (and stdout unless it is piped), $2: "pipe" to leave stdout alone.
const WRAPPER = 'ulimit -Sn "$(ulimit -Hn)"; log="${1:-/dev/null}"; mode="$2"; shift 2; ' +
  'if [ "$mode" = pipe ]; then exec "$@" 2>>"$log"; else exec "$@" >>"$log" 2>&1; fi';

/** Starts `cmd args…` with the open-file soft limit raised to the hard limit. */
export function spawnProcess(cmd: string, args: string[], opts: SpawnOptions = {}): Spawned {
  const child = new Deno.Command("/bin/sh", {
    args: ["-c", WRAPPER, "sh", opts.logFile ?? "", opts.pipeStdout ? "pipe" : "", cmd, ...args],
    cwd: opts.cwd,
    env: opts.env,
    stdin: opts.pipeStdin ? "piped" : "null",
    stdout: opts.pipeStdout ? "piped" : "null",
    stderr: "null",
  }).spawn();
  let exited: Deno.CommandStatus | undefined;
  const status = child.status.then((s) => (exited = s));
  return {
    pid: child.pid,
    child,
    status,
    async stop(graceMs = 5000): Promise<void> {
      if (exited) return;
      try {
        child.kill("SIGTERM");
      } catch {
        // Already gone.
      }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // Already gone.
        }
      }, graceMs);
      await status;
      clearTimeout(timer);
    },
  };
}

/** Reads a child's stdout line by line. */
export class LineReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  #pending = "";
  #done = false;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
  }

  /** The next line (without newline), or undefined at EOF or after `timeoutMs`. */
  async next(timeoutMs: number): Promise<string | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const at = this.#pending.indexOf("\n");
      if (at >= 0) {
        const line = this.#pending.slice(0, at);
        this.#pending = this.#pending.slice(at + 1);
        return line;
      }
      if (this.#done) return undefined;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const chunk = await Promise.race([
        this.#reader.read(),
        new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), left))),
      ]);
      clearTimeout(timer);
      if (chunk === "timeout") return undefined;
      if (chunk.done) this.#done = true;
      else this.#pending += this.#decoder.decode(chunk.value, { stream: true });
    }
  }

  /** Reads the rest so the child never blocks on a full pipe. */
  async drain(): Promise<void> {
    try {
      while (!(await this.#reader.read()).done) { /* discard */ }
    } catch {
      // The child went away.
    }
  }
}

/** Sends one line to a child's stdin (ignores a child that already exited). */
export async function sendLine(child: Deno.ChildProcess, line: string): Promise<void> {
  const writer = child.stdin.getWriter();
  try {
    await writer.write(new TextEncoder().encode(`${line}\n`));
  } catch {
    // Exited.
  } finally {
    writer.releaseLock();
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
