/**
 * worker_processes = 2 under Deno and Bun: two processes listen on the same port (SO_REUSEPORT),
 * both greet clients, the supervisor's admin API shows the sessions, counts and metrics of both
 * and kicks a session held by the copy, a killed copy is reported down at once and restarted,
 * and SIGTERM to the supervisor ends them all (and removes the private socket directory).
 * Deno allows `Deno.listen({ reusePort })` only with `--unstable-net`; the copies inherit it
 * from the supervisor's command line.
 */

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { freePort, waitForPort } from "./lab/ports.ts";
import { LineClient } from "./helpers/line_client.ts";
import { runCommand, RUNTIMES } from "./helpers/runtimes.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const TOKEN = "workers-test-admin-token";
const CLIENTS = 20;

interface Listed {
  id: string;
  worker: number;
  client: string;
  state: string;
}

/** Calls the supervisor's admin API; JSON bodies parsed, metrics as text, with the time it took. */
async function api(
  adminPort: number,
  path: string,
  method = "GET",
  // deno-lint-ignore no-explicit-any
): Promise<{ status: number; body: any; ms: number }> {
  const started = Date.now();
  const res = await fetch(`http://127.0.0.1:${adminPort}${path}`, {
    method,
    headers: { Authorization: `Bearer ${TOKEN}` },
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Metrics: keep the text.
  }
  return { status: res.status, body, ms: Date.now() - started };
}

/** Sum of every series of `name` in a Prometheus text. */
function total(metrics: string, name: string): number {
  let sum = 0;
  for (const m of metrics.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "gm"))) sum += Number(m[1]);
  return sum;
}

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
      const adminPort = await freePort();
      const dir = await Deno.makeTempDir({ prefix: "mailproxy-workers-" });
      const config = `${dir}/proxy.toml`;
      await Deno.writeTextFile(
        config,
        `worker_processes = 2\nauth_http = "http://127.0.0.1:9/auth"\n\n` +
          `[admin]\nlisten = "127.0.0.1:${adminPort}"\ntoken = "${TOKEN}"\n\n` +
          `[[server]]\nlisten = "127.0.0.1:${port}"\nprotocol = "imap"\n`,
      );
      const clients: LineClient[] = [];
      let privateDir = "";
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
        const copyPid = pids.find((pid) => pid !== child.pid)!;
        assert.deepEqual(pids.sort(), [child.pid, copyPid].sort(), "the supervisor is one of the listeners");
        // The copy's private admin socket: in a 0700 directory, removed at shutdown.
        const socket = Deno.readTextFileSync(`/proc/${copyPid}/environ`).split("\0")
          .find((v) => v.startsWith("MAILPROXY_WORKER_ADMIN="))!.slice("MAILPROXY_WORKER_ADMIN=".length);
        privateDir = socket.slice(0, socket.lastIndexOf("/"));
        assert.equal(Deno.statSync(privateDir).mode! & 0o777, 0o700);

        assert.equal(await fetch(`http://127.0.0.1:${adminPort}/status`).then((r) => r.status), 401);
        await until("worker 1 up in /status", async () => {
          const r = await api(adminPort, "/status");
          return r.body.workers?.[1]?.up === true ? true : undefined;
        });
        const before = (await api(adminPort, "/metrics")).body as string;

        // Hold CLIENTS sessions open; the kernel spreads them over the two processes.
        for (let i = 0; i < CLIENTS; i++) {
          const c = await LineClient.open(port);
          clients.push(c);
          assert.match(await c.readUntilLine("* OK"), /^\* OK/);
        }
        const byPort = new Map(clients.map((c) => [`127.0.0.1:${c.socket.localPort}`, c]));
        const listed: Listed[] = (await api(adminPort, "/sessions")).body.sessions;
        assert.equal(listed.length, CLIENTS, `listed: ${listed.map((s) => s.id).join(" ")}`);
        assert.equal(new Set(listed.map((s) => s.id)).size, CLIENTS, "session ids are unique");
        assert.deepEqual(new Set(listed.map((s) => s.client)), new Set(byPort.keys()));
        const held = [0, 1].map((w) => listed.filter((s) => s.worker === w));
        assert.ok(
          held[0].length > 0 && held[1].length > 0,
          `both processes hold sessions: ${held.map((h) => h.length)}`,
        );
        assert.ok(held[1].every((s) => /^w1-/.test(s.id)), "a copy's session ids carry its index");

        const after = (await api(adminPort, "/metrics")).body as string;
        assert.equal(total(after, "mailproxy_connections_active"), CLIENTS);
        assert.equal(
          total(after, "mailproxy_connections_accepted_total") -
            total(before, "mailproxy_connections_accepted_total"),
          CLIENTS,
        );
        assert.match(after, /^mailproxy_worker_up\{worker="1"\} 1$/m);
        assert.equal(after.match(/^# TYPE mailproxy_connections_active gauge$/gm)?.length, 1);

        const status = (await api(adminPort, "/status")).body;
        assert.equal(status.sessions.active, CLIENTS);
        assert.equal(status.listeners[0].sessions, CLIENTS);
        assert.deepEqual(
          status.workers.map((w: { worker: number; pid: number; up: boolean; sessions: number }) => [
            w.worker,
            w.pid,
            w.up,
            w.sessions,
          ]),
          [[0, child.pid, true, held[0].length], [1, copyPid, true, held[1].length]],
        );

        // Kick a session the copy holds, by id and by filter: its client gets the goodbye.
        const victim = held[1][0];
        const kicked = await api(adminPort, `/sessions/${victim.id}`, "DELETE");
        assert.deepEqual([kicked.status, kicked.body], [200, { killed: [victim.id] }]);
        const victimClient = byPort.get(victim.client)!;
        assert.match(await victimClient.read(() => false, 5000, 5000), /^\* BYE/m);
        assert.ok(victimClient.closed, "the kicked client is disconnected");
        await until("the kicked session to leave /sessions", async () => {
          const now: Listed[] = (await api(adminPort, "/sessions")).body.sessions;
          return now.length === CLIENTS - 1 && !now.some((s) => s.id === victim.id) ? true : undefined;
        });
        assert.equal((await api(adminPort, `/sessions/${victim.id}`)).status, 404);
        if (held[1].length > 1) {
          const second = held[1][1];
          const byFilter = await api(adminPort, `/sessions?client=${second.client}`, "DELETE");
          assert.deepEqual(byFilter.body, { killed: [second.id] });
          assert.ok(await byPort.get(second.client)!.waitClosed(5000), "the filter reached the copy");
        }

        const flushed = await api(adminPort, "/auth-cache/flush", "POST");
        assert.deepEqual([flushed.status, flushed.body], [200, { flushed: 0 }]);
        const reloaded = await api(adminPort, "/reload", "POST");
        assert.equal(reloaded.status, 200, JSON.stringify(reloaded.body));
        assert.deepEqual(reloaded.body.workers, [{ worker: 1, reloaded: true }]);
        for (const c of clients) c.close();

        // A stuck copy (stopped: its socket accepts, nothing answers) is reported down after the
        // short timeout instead of hanging the admin API.
        Deno.kill(copyPid, "SIGSTOP");
        try {
          const stuck = await api(adminPort, "/status");
          assert.equal(stuck.status, 200);
          assert.equal(stuck.body.workers[1].up, false);
          assert.ok(stuck.ms < 3000, `/status took ${stuck.ms} ms with a stuck worker`);
          const stuckKick = await api(adminPort, `/sessions/w1-${victim.id.slice(3)}`, "DELETE");
          assert.equal(stuckKick.status, 503);
          assert.equal(stuckKick.body.error, "worker_unavailable");
        } finally {
          Deno.kill(copyPid, "SIGCONT");
        }
        await until("worker 1 up again", async () => {
          return (await api(adminPort, "/status")).body.workers[1].up ? true : undefined;
        });

        // Kill the copy: the admin API reports it down at once (no hang), then it is restarted.
        Deno.kill(copyPid, "SIGKILL");
        const down = await until("worker 1 reported down", async () => {
          const r = await api(adminPort, "/status");
          assert.equal(r.status, 200);
          assert.ok(r.ms < 3000, `/status took ${r.ms} ms with a worker down`);
          return r.body.workers[1].up === false ? r.body : undefined;
        }, 5000);
        assert.equal(down.workers[1].sessions, null);
        const metricsDown = await api(adminPort, "/metrics");
        assert.equal(metricsDown.status, 200);
        assert.ok(metricsDown.ms < 3000, `/metrics took ${metricsDown.ms} ms with a worker down`);
        await until("a restarted copy", async () => {
          const found = await listeners(port);
          return found.length === 2 && !found.includes(copyPid) ? found : undefined;
        });
        await until("the restarted copy up in /status", async () => {
          const w = (await api(adminPort, "/status")).body.workers[1];
          return w.up && w.restarts === 1 && w.pid !== copyPid ? true : undefined;
        });
      } finally {
        for (const c of clients) c.close();
        try {
          child.kill("SIGTERM");
        } catch {
          // Already exited; the status below says how.
        }
        const status = await child.status;
        const log = await stderr;
        await Deno.remove(dir, { recursive: true });
        assert.equal(status.code, 0, log);
        assert.ok(!log.includes(TOKEN), "the admin token is not logged");
        assert.ok(!log.includes("need a restart"), "a reload in the copy sees the same [admin] as the file");
      }
      assert.deepEqual(await listeners(port), [], "no process listens after SIGTERM");
      assert.ok(
        privateDir && !existsSync(privateDir),
        `the private socket directory ${privateDir} is removed`,
      );
    },
  });
}
