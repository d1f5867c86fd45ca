/**
 * worker_shutdown_timeout with nginx's meaning, with mailproxy as a real process under
 * Deno and Bun in front of a real Dovecot: after a reload, the sessions started under
 * the previous config are ended once that config's timeout has passed (a pre-auth one
 * with `* BYE`, a relayed one closed as is), while sessions started after the reload go
 * on; without the key, old sessions are never cut (the default, as in nginx).
 */

import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { freePort } from "./lab/ports.ts";
import { LineClient } from "./helpers/line_client.ts";
import { ADMIN_TOKEN, api, command, imapLogin, type OpsLab, startOpsLab, waitFor } from "./helpers/ops.ts";
import { startProxy } from "./helpers/proxy_process.ts";
import { RUNTIMES } from "./helpers/runtimes.ts";

let labPromise: Promise<OpsLab> | undefined;
const lab = () => (labPromise ??= startOpsLab());

function config(authUrl: string, port: number, timeout: string | null): string {
  return `auth_http = "${authUrl}"
${timeout === null ? "" : `worker_shutdown_timeout = "${timeout}"`}

[admin]
listen = "127.0.0.1:{{ADMIN_PORT}}"
token = "${ADMIN_TOKEN}"

[[server]]
listen = "127.0.0.1:${port}"
protocol = "imap"
`;
}

/** Changes a setting new sessions get (max_errors of the server), so a reload has something to apply. */
function touchConfig(file: string): void {
  writeFileSync(file, readFileSync(file, "utf8") + "max_errors = 7\n");
}

for (const runtime of RUNTIMES) {
  Deno.test({
    name: `ops: after a reload, sessions of the old config end at worker_shutdown_timeout on ${runtime}`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      const { auth } = await lab();
      const port = await freePort();
      const proxy = await startProxy(runtime, config(auth.url, port, "2s"), [port]);
      const clients: LineClient[] = [];
      try {
        const relayed = await imapLogin(port);
        const waiting = await LineClient.open(port);
        clients.push(relayed, waiting);
        await waiting.readUntilLine("* OK");

        const reload = await api(proxy, "/reload", "POST");
        assert.equal(reload.status, 200, JSON.stringify(reload.body));
        assert.ok(
          reload.body.changes.includes(
            "2 session(s) of the previous config end in 2s (worker_shutdown_timeout)",
          ),
          JSON.stringify(reload.body),
        );
        const fresh = await imapLogin(port, "bob", "bobpass");
        clients.push(fresh);

        await t.step("the old sessions go on until the timeout", async () => {
          assert.match(await command(relayed, "r1", "NOOP"), /r1 OK/);
        });

        await t.step("then pre-auth gets * BYE and the relayed one is closed as is", async () => {
          const bye = await waiting.read(() => false, 6000, 8000);
          assert.equal(bye, "* BYE Server shutting down\r\n");
          assert.ok(await waiting.waitClosed(3000));
          assert.ok(await relayed.waitClosed(5000), "relayed session of the old config closed");
          assert.equal(await relayed.read(), "", "nothing injected into the relayed stream");
        });

        await t.step("a session started after the reload is not touched", async () => {
          assert.match(await command(fresh, "f1", "NOOP"), /f1 OK/);
          const users = (await api(proxy, "/sessions")).body.sessions.map((s: { user: string }) => s.user);
          assert.deepEqual(users, ["bob"]);
          const logged = /worker_shutdown_timeout 2s: ended 2 session\(s\) of a previous config/;
          assert.ok(await waitFor(() => logged.test(proxy.logs())), proxy.logs());
        });
      } finally {
        for (const c of clients) c.close();
        await proxy.stop();
      }
    },
  });

  Deno.test({
    name: `ops: without worker_shutdown_timeout a reload never cuts old sessions on ${runtime}`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const { auth } = await lab();
      const port = await freePort();
      const proxy = await startProxy(runtime, config(auth.url, port, null), [port]);
      const clients: LineClient[] = [];
      try {
        const relayed = await imapLogin(port);
        clients.push(relayed);
        // Turning the key on applies to the sessions started under the new config only,
        // as in nginx, where the old workers keep the old configuration's value.
        writeFileSync(
          proxy.configFile,
          readFileSync(proxy.configFile, "utf8").replace(
            'auth_http = "',
            'worker_shutdown_timeout = "1s"\nauth_http = "',
          ),
        );
        const reload = await api(proxy, "/reload", "POST");
        assert.equal(reload.status, 200, JSON.stringify(reload.body));
        assert.ok(reload.body.changes.includes("worker_shutdown_timeout 1s"), JSON.stringify(reload.body));
        const fresh = await imapLogin(port, "bob", "bobpass");
        clients.push(fresh);
        // A second reload retires `fresh` (started under the 1s config) but not `relayed`.
        touchConfig(proxy.configFile);
        const second = await api(proxy, "/reload", "POST");
        assert.equal(second.status, 200, JSON.stringify(second.body));
        assert.ok(await fresh.waitClosed(8000), "the session of the 1s config ended");
        assert.match(await command(relayed, "r1", "NOOP"), /r1 OK/, "the first session goes on");
        assert.ok(await waitFor(async () => (await api(proxy, "/sessions")).body.sessions.length === 1));
      } finally {
        for (const c of clients) c.close();
        await proxy.stop();
      }
    },
  });
}

Deno.test({
  name: "ops reload timeout lab teardown",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    if (labPromise) await (await labPromise).stop();
  },
});
