/**
 * worker_processes = 2 under Deno and Bun: two processes listen on the same port (SO_REUSEPORT),
 * both greet clients, a killed copy is restarted, and SIGTERM to the supervisor ends them all.
 * Deno allows `Deno.listen({ reusePort })` only with `--unstable-net`; the copies inherit it
 * from the supervisor's command line.
 */

import assert from "node:assert/strict";
import { freePort, waitForPort } from "./lab/ports.ts";
import { LineClient } from "./helpers/line_client.ts";
import { runCommand, RUNTIMES } from "./helpers/runtimes.ts";

const ROOT = new URL("../", import.meta.url).pathname;

/** Pids of the processes listening on 127.0.0.1:`port` (from `ss -ltnp`). */
async function listeners(port: number): Promise<number[]> {
  const out = await new Deno.Command("ss", { args: ["-Hltnp", `sport = :${port}`], stdout: "piped" })
    .output();
  const text = new TextDecoder().decode(out.stdout);
  return [...text.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1])).sort();
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

for (const runtime of RUNTIMES) {
  Deno.test({
    name: `worker_processes = 2 on ${runtime}`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const port = await freePort();
      const dir = await Deno.makeTempDir({ prefix: "mailproxy-workers-" });
      const config = `${dir}/proxy.toml`;
      await Deno.writeTextFile(
        config,
        `worker_processes = 2\nauth_http = "http://127.0.0.1:9/auth"\n\n[[server]]\nlisten = "127.0.0.1:${port}"\nprotocol = "imap"\n`,
      );
      const [cmd, ...pre] = runCommand(runtime);
      const flags = runtime === "deno" ? [...pre, "--unstable-net"] : pre;
      const child = new Deno.Command(cmd, {
        args: [...flags, `${ROOT}main.ts`, "--config", config],
        cwd: ROOT,
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const stderr = new Response(child.stderr).text();
      try {
        await Promise.race([
          waitForPort(port, 20_000),
          child.status.then(async (s) => {
            throw new Error(`mailproxy exited with ${s.code}: ${await stderr}`);
          }),
        ]);
        const pids = await until("two listeners", async () => {
          const found = await listeners(port);
          return found.length === 2 ? found : undefined;
        });
        for (let i = 0; i < 20; i++) {
          const c = await LineClient.open(port);
          try {
            assert.match(await c.readUntilLine("* OK"), /^\* OK/);
          } finally {
            c.close();
          }
        }
        // The copy is the listener whose parent is the other one; kill it and wait for a new one.
        const copy = pids.find((pid) => {
          const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
          return pids.includes(Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
        })!;
        Deno.kill(copy, "SIGKILL");
        await until("a restarted copy", async () => {
          const found = await listeners(port);
          return found.length === 2 && !found.includes(copy) ? found : undefined;
        });
      } finally {
        try {
          child.kill("SIGTERM");
        } catch {
          // Already exited; the status below says how.
        }
        const status = await child.status;
        const log = await stderr;
        await Deno.remove(dir, { recursive: true });
        assert.equal(status.code, 0, log);
      }
      assert.deepEqual(await listeners(port), [], "no process listens after SIGTERM");
    },
  });
}
