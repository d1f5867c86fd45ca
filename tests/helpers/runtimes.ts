/**
 * The runtimes the integration tests start mailproxy under: the Deno running the
 * tests, and Bun (from npm, pinned like Deno).
 * @module
 */

import { execFileSync } from "node:child_process";

/** The pinned Bun version. */
export const BUN_VERSION = "1.4.4";

/** Runtimes a test can start the proxy under. */
export type Runtime = "deno" | "bun";

let bunPath: string | undefined;

/** Absolute path of the pinned bun binary (fetched through npx once, then cached). */
export function bunExecutable(): string {
  if (bunPath) return bunPath;
  const fromEnv = Deno.env.get("MAILPROXY_BUN");
  if (fromEnv) return (bunPath = fromEnv);
  const out = execFileSync("npx", ["-y", `bun@${BUN_VERSION}`, "-e", "console.log(process.execPath)"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  });
  bunPath = out.trim().split("\n").pop()!;
  return bunPath;
}

/** argv prefix that runs a script under the runtime. */
export function runCommand(runtime: Runtime): string[] {
  return runtime === "deno" ? [Deno.execPath(), "run", "--allow-all"] : [bunExecutable(), "run"];
}

/** Both runtimes, for tests that run once per runtime. */
export const RUNTIMES: readonly Runtime[] = ["deno", "bun"];
