/**
 * Starts mailproxy as a real child process (under Deno or Bun) on a config the
 * test writes, the way an administrator runs it.
 * @module
 */

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
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
  /** Everything the process wrote to stderr and stdout so far. */
  logs(): string;
  /** SIGTERM, wait for exit (kill after 5 s); resolves with the exit code. */
  stop(): Promise<number | null>;
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
  const child = spawn(cmd, [...args, join(ROOT, "main.ts"), "--config", configFile], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (d: Uint8Array) => (output += new TextDecoder().decode(d)));
  child.stderr!.on("data", (d: Uint8Array) => (output += new TextDecoder().decode(d)));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  let exitCode: number | null | undefined;
  exited.then((c) => (exitCode = c));

  const proc: ProxyProcess = {
    runtime,
    dir,
    configFile,
    adminUrl: `http://127.0.0.1:${adminPort}`,
    logs: () => output,
    async stop() {
      if (exitCode === undefined) child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
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
