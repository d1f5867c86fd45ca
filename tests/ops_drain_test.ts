/**
 * SIGTERM drains, with mailproxy as a real process under Deno and Bun in front of a
 * real Dovecot: listeners close at once, sessions in progress go on (and may finish on
 * their own) until `shutdown_timeout`, then a pre-auth session gets `* BYE` and a
 * relayed one is closed without injected bytes; the process exits 0.
 */

import assert from "node:assert/strict";
import { canConnect, freePort } from "./lab/ports.ts";
import { LineClient } from "./helpers/line_client.ts";
import { ADMIN_TOKEN, api, command, imapLogin, type OpsLab, startOpsLab, waitFor } from "./helpers/ops.ts";
import { startProxy } from "./helpers/proxy_process.ts";
import { RUNTIMES } from "./helpers/runtimes.ts";

let labPromise: Promise<OpsLab> | undefined;
const lab = () => (labPromise ??= startOpsLab());

function config(authUrl: string, port: number, shutdownTimeout: string): string {
  return `auth_http = "${authUrl}"
shutdown_timeout = "${shutdownTimeout}"

[admin]
listen = "127.0.0.1:{{ADMIN_PORT}}"
token = "${ADMIN_TOKEN}"

[[server]]
listen = "127.0.0.1:${port}"
protocol = "imap"
`;
}

for (const runtime of RUNTIMES) {
  Deno.test({
    name: `ops: SIGTERM drains sessions up to shutdown_timeout on ${runtime}`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      const { auth } = await lab();
      const port = await freePort();
      const proxy = await startProxy(runtime, config(auth.url, port, "3s"), [port]);
      const clients: LineClient[] = [];
      try {
        const stay = await imapLogin(port);
        const leaving = await imapLogin(port, "bob", "bobpass");
        const waiting = await LineClient.open(port);
        clients.push(stay, leaving, waiting);
        await waiting.readUntilLine("* OK");
        assert.match(await command(stay, "s1", "SELECT INBOX"), /s1 OK/);

        const signalled = Date.now();
        proxy.signal("SIGTERM");

        await t.step("listeners close at once; the admin API still answers", async () => {
          assert.ok(await waitFor(async () => !(await canConnect(port)), 2000), "listener closed");
          const r = await api(proxy, "/sessions");
          assert.equal(r.status, 200);
          assert.equal(r.body.sessions.length, 3);
        });

        await t.step("a relayed session keeps working and can finish during the drain", async () => {
          assert.match(await command(leaving, "l1", "NOOP"), /l1 OK/);
          assert.match(await command(leaving, "l2", "LOGOUT"), /\* BYE[^]*l2 OK/);
          // The session ends when Dovecot closes after LOGOUT, a moment after the reply.
          const users = async () =>
            (await api(proxy, "/sessions")).body.sessions.map((s: { user: string | null }) => s.user).sort();
          await waitFor(async () => !(await users()).includes("bob"), 3000);
          assert.deepEqual(await users(), ["alice", null]);
        });

        await t.step("at shutdown_timeout: pre-auth gets * BYE, relayed is closed as is", async () => {
          const bye = await waiting.read(() => false, 6000, 6000);
          assert.equal(bye, "* BYE Server shutting down\r\n");
          assert.ok(waiting.closed);
          const elapsed = Date.now() - signalled;
          assert.ok(elapsed >= 2500, `ended after ${elapsed} ms, before shutdown_timeout`);
          assert.ok(await stay.waitClosed(3000), "relayed session closed");
          assert.equal(await stay.read(), "", "nothing injected into the relayed stream");
        });

        await t.step("the process exits 0 soon after", async () => {
          const code = await Promise.race([
            proxy.exited,
            new Promise((r) => setTimeout(() => r("hung"), 5000)),
          ]);
          assert.equal(code, 0, proxy.logs());
          assert.ok(Date.now() - signalled < 7000);
          assert.match(proxy.logs(), /SIGTERM: stopping, draining sessions/);
          assert.match(proxy.logs(), /ending 2 remaining session\(s\)/);
        });
      } finally {
        for (const c of clients) c.close();
        await proxy.stop();
      }
    },
  });

  Deno.test({
    name: `ops: SIGTERM with nothing to drain exits at once on ${runtime}`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const { auth } = await lab();
      const port = await freePort();
      const proxy = await startProxy(runtime, config(auth.url, port, "30s"), [port]);
      try {
        const c = await imapLogin(port);
        assert.match(await command(c, "a2", "LOGOUT"), /a2 OK/);
        c.close();
        assert.ok(await waitFor(async () => (await api(proxy, "/sessions")).body.sessions.length === 0));
        const signalled = Date.now();
        proxy.signal("SIGTERM");
        assert.equal(await proxy.exited, 0);
        assert.ok(Date.now() - signalled < 3000, `took ${Date.now() - signalled} ms`);
      } finally {
        await proxy.stop();
      }
    },
  });
}

Deno.test({
  name: "ops drain lab teardown",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    if (labPromise) await (await labPromise).stop();
  },
});
