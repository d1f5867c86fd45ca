/**
 * Starts mailproxy as a real child process (under Deno or Bun) on a config the
 * test writes, the way an administrator runs it.
 * @module
 */

import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, waitForPort } from "../lab/ports.ts";
import { runCommand, type Runtime } from "./runtimes.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** A running proxy process. */
export interface ProxyProcess {
  runtime: Runtime;
  dir: string;
  configFile: string;
  /** The admin API base URL (`http://127.0.0.1:PORT`). */
  adminUrl: string;
  /** Process id (for /proc/<pid>/status and /proc/<pid>/fd in load tests). */
  pid: number;
  /** Everything the process wrote to stderr and stdout so far. */
  logs(): string;
  /** SIGTERM, wait for exit (kill after 5 s); resolves with the exit code. */
  stop(): Promise<number | null>;
  /** Sends a signal (SIGHUP to reload, SIGTERM to drain) without waiting. */
  signal(signal: Deno.Signal): void;
  /** Resolves with the exit code (null if killed by a signal) once the process exited. */
  readonly exited: Promise<number | null>;
}

/**
 * Writes `toml` (with `{{ADMIN_PORT}}` replaced) to a temp dir and starts the proxy.
 * Waits until the admin port and every port in `waitPorts` accept connections.
 */
export async function startProxy(runtime: Runtime, toml: string, waitPorts: number[]): Promise<ProxyProcess> {
  const dir = mkdtempSync(join(tmpdir(), "mailproxy-test-"));
  const adminPort = await freePort();
  const configFile = join(dir, "proxy.toml");
  const text = toml.includes("[admin]")
    ? toml.replaceAll("{{ADMIN_PORT}}", String(adminPort))
    : `${toml}\n[admin]\nlisten = "127.0.0.1:${adminPort}"\n`;
  writeFileSync(configFile, text);
  const [cmd, ...args] = runCommand(runtime);
  // Deno.Command rather than node:child_process: the latter reports a child that
  // handled SIGTERM and exited 0 as "killed by SIGTERM".
  const child = new Deno.Command(cmd, {
    args: [...args, join(ROOT, "main.ts"), "--config", configFile],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) output += decoder.decode(chunk, { stream: true });
  };
  const drained = Promise.all([collect(child.stdout), collect(child.stderr)]);
  const exited = child.status.then(async (s) => {
    await drained;
    saveLogs(runtime, child.pid, output);
    return s.signal ? null : s.code;
  });
  let exitCode: number | null | undefined;
  exited.then((c) => (exitCode = c));

  const proc: ProxyProcess = {
    runtime,
    dir,
    configFile,
    adminUrl: `http://127.0.0.1:${adminPort}`,
    pid: child.pid,
    logs: () => output,
    exited,
    signal: (signal) => child.kill(signal),
    async stop() {
      if (exitCode === undefined) child.kill("SIGTERM");
      const killer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // Already gone.
        }
      }, 5000);
      const code = await exited;
      clearTimeout(killer);
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
  try {
    for (const port of [adminPort, ...waitPorts]) {
      await Promise.race([
        waitForPort(port, 20_000),
        exited.then((c) => {
          throw new Error(`mailproxy (${runtime}) exited with ${c}:\n${output}`);
        }),
      ]);
    }
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return proc;
}

/** Where every proxy's output is kept after it exits, for the secrets scan (tests/secrets_scan.ts). */
export const PROXY_LOG_DIR: string = join(ROOT, "tests", "artifacts", "proxy-logs");

/** Appends a finished proxy's output to its own file under {@link PROXY_LOG_DIR}. */
function saveLogs(runtime: Runtime, pid: number, output: string): void {
  try {
    mkdirSync(PROXY_LOG_DIR, { recursive: true });
    const from = Deno.mainModule.replace(/^.*\/tests\//, "tests/");
    appendFileSync(join(PROXY_LOG_DIR, `${Date.now()}-${runtime}-${pid}.log`), `# ${from}\n${output}`);
  } catch {
    // Best effort: the scan fails on its own when it finds too few logs.
  }
}
