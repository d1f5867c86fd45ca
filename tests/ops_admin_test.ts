/**
 * Operations end to end, with mailproxy as a real process under Deno and Bun in front
 * of a real Dovecot: live sessions in the admin API (same id as in the JSON logs),
 * kicking one session or every session of a user, and config reloads (POST /reload and
 * SIGHUP) that add and remove listeners and change a capability list for new sessions
 * while a relayed IMAP session stays usable; a bad config is refused with its errors.
 */

import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { canConnect, freePort } from "./lab/ports.ts";
import { LineClient } from "./helpers/line_client.ts";
import {
  ADMIN_TOKEN,
  api,
  command,
  imapLogin,
  type OpsLab,
  sessions,
  startOpsLab,
  waitFor,
} from "./helpers/ops.ts";
import { startProxy } from "./helpers/proxy_process.ts";
import { RUNTIMES } from "./helpers/runtimes.ts";

let labPromise: Promise<OpsLab> | undefined;
const lab = () => (labPromise ??= startOpsLab());

/** The proxy config: one IMAP server, optionally a second one and extra capability tokens. */
function config(authUrl: string, port: number, extra: { capabilities?: string[]; secondPort?: number } = {}) {
  const caps = extra.capabilities ?? ["IMAP4", "IMAP4rev1", "UIDPLUS"];
  let text = `auth_http = "${authUrl}"
timeout = "10s"
shutdown_timeout = "5s"

[log]
level = "info"
format = "json"

[admin]
listen = "127.0.0.1:{{ADMIN_PORT}}"
token = "${ADMIN_TOKEN}"

[[server]]
listen = "127.0.0.1:${port}"
protocol = "imap"
imap_capabilities = ${JSON.stringify(caps)}
`;
  if (extra.secondPort) text += `\n[[server]]\nlisten = "127.0.0.1:${extra.secondPort}"\nprotocol = "imap"\n`;
  return text;
}

/** Rewrites the running proxy's config file, keeping its admin port. */
function rewrite(file: string, text: string): void {
  const adminPort = readFileSync(file, "utf8").match(/listen = "127\.0\.0\.1:(\d+)"\ntoken/)![1];
  writeFileSync(file, text.replaceAll("{{ADMIN_PORT}}", adminPort));
}

for (const runtime of RUNTIMES) {
  Deno.test({
    name: `ops: sessions, kick and reload on ${runtime}`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      const { dovecot, auth } = await lab();
      const backend = `127.0.0.1:${dovecot.imapPort}`;
      const port = await freePort();
      const proxy = await startProxy(runtime, config(auth.url, port), [port]);
      const open: LineClient[] = [];
      try {
        await t.step("the admin API wants the token", async () => {
          const res = await fetch(`${proxy.adminUrl}/sessions`);
          assert.equal(res.status, 401);
          assert.equal((await res.json()).error, "unauthorized");
        });

        await t.step("a relayed session is listed with user and backend, then disappears", async () => {
          const c = await imapLogin(port);
          const listed = await sessions(proxy);
          assert.equal(listed.length, 1, JSON.stringify(listed));
          const s = listed[0];
          assert.equal(s.user, "alice");
          assert.equal(s.backend, backend);
          assert.equal(s.state, "relay");
          assert.equal(s.protocol, "imap");
          assert.match(await command(c, "a2", "SELECT INBOX"), /a2 OK/);
          assert.ok(await waitFor(async () => (await sessions(proxy))[0]?.bytes.downstream > 0));
          assert.deepEqual(await sessions(proxy, "?user=bob"), []);
          assert.deepEqual((await sessions(proxy, "?user=alice")).map((x) => x.id), [s.id]);
          assert.match(await command(c, "a3", "LOGOUT"), /a3 OK/);
          c.close();
          assert.ok(await waitFor(async () => (await sessions(proxy)).length === 0), "session gone");

          // Every JSON log line of a session carries its id, the one /sessions showed.
          // (Log lines are written in batches of a few ms: wait for the session's last one.)
          assert.ok(await waitFor(() => proxy.logs().includes("proxied session done")));
          const lines = proxy.logs().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
          // Sessions log under mailproxy.session.<server index> (per-server error_log routes by it).
          const sessionLines = lines.filter((l) => l.logger === "mailproxy.session.0");
          assert.ok(sessionLines.length >= 3, proxy.logs());
          for (const l of sessionLines) {
            assert.equal(typeof l.properties.session, "string", JSON.stringify(l));
          }
          const mine = sessionLines.filter((l) => l.properties.session === s.id).map((l) => l.message);
          assert.ok(mine.some((m: string) => m.includes("client logged in")), mine.join("\n"));
          assert.ok(mine.some((m: string) => m.includes("proxied session done")), mine.join("\n"));
        });

        await t.step("kicking a relayed session closes it", async () => {
          const c = await imapLogin(port);
          const [s] = await sessions(proxy);
          const r = await api(proxy, `/sessions/${s.id}`, "DELETE");
          assert.equal(r.status, 200);
          assert.deepEqual(r.body, { killed: [s.id] });
          assert.ok(await c.waitClosed(3000), "client connection closed");
          c.close();
          assert.ok(await waitFor(async () => (await sessions(proxy)).length === 0));
          const again = await api(proxy, `/sessions/${s.id}`, "DELETE");
          assert.equal(again.status, 404);
          assert.equal(again.body.error, "not_found");
        });

        await t.step("kicking before login says * BYE", async () => {
          const c = await LineClient.open(port);
          await c.readUntilLine("* OK");
          const [s] = await sessions(proxy);
          assert.equal(s.state, "pre-auth");
          await api(proxy, `/sessions/${s.id}`, "DELETE");
          const text = await c.read(() => false, 3000, 3000);
          assert.equal(text, "* BYE Session closed by administrator\r\n");
          assert.ok(c.closed);
          c.close();
        });

        await t.step("DELETE /sessions?user= kicks every session of that user only", async () => {
          const b1 = await imapLogin(port, "bob", "bobpass");
          const b2 = await imapLogin(port, "bob", "bobpass");
          const a = await imapLogin(port);
          open.push(b1, b2, a);
          const r = await api(proxy, "/sessions?user=bob", "DELETE");
          assert.equal(r.status, 200);
          assert.equal(r.body.killed.length, 2);
          assert.ok(await b1.waitClosed(3000));
          assert.ok(await b2.waitClosed(3000));
          assert.match(await command(a, "n1", "NOOP"), /n1 OK/, "alice is untouched");
          assert.deepEqual((await sessions(proxy)).map((s) => s.user), ["alice"]);
          const none = await api(proxy, "/sessions", "DELETE");
          assert.equal(none.status, 400);
        });

        const relayed = open[2];
        const secondPort = await freePort();

        await t.step("POST /reload adds a listener and changes capabilities for new sessions", async () => {
          assert.match(await command(relayed, "r1", "SELECT INBOX"), /r1 OK/);
          const before = await LineClient.open(port);
          open.push(before);
          await before.readUntilLine("* OK");
          rewrite(
            proxy.configFile,
            config(auth.url, port, { capabilities: ["IMAP4rev1", "XOPSTEST"], secondPort }),
          );
          const r = await api(proxy, "/reload", "POST");
          assert.equal(r.status, 200, JSON.stringify(r.body));
          assert.equal(r.body.reloaded, true);
          assert.ok(r.body.changes.some((c: string) => c.startsWith(`listening on 127.0.0.1:${secondPort}`)));
          assert.ok(
            r.body.changes.some((c: string) => /server #1 \(imap\): imap_capabilities changed/.test(c)),
          );

          const fresh = await LineClient.open(port);
          await fresh.readUntilLine("* OK");
          assert.match(await command(fresh, "c1", "CAPABILITY"), /^\* CAPABILITY IMAP4rev1 XOPSTEST/m);
          fresh.close();
          // A session that was already connected keeps the settings it started with.
          const old = await command(before, "c1", "CAPABILITY");
          assert.match(old, /^\* CAPABILITY IMAP4 IMAP4rev1 UIDPLUS/m);
          assert.doesNotMatch(old, /XOPSTEST/);

          const viaNew = await imapLogin(secondPort);
          assert.match(await command(viaNew, "s1", "SELECT INBOX"), /s1 OK/);
          viaNew.close();
          // The relayed session never noticed.
          assert.match(
            await command(relayed, "r2", "FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])"),
            /ops test/,
          );
        });

        await t.step("a bad config is refused with its errors; everything keeps running", async () => {
          writeFileSync(
            proxy.configFile,
            readFileSync(proxy.configFile, "utf8").replace("imap_capabilities", "imap_capabilitiez"),
          );
          const r = await api(proxy, "/reload", "POST");
          assert.equal(r.status, 422);
          assert.equal(r.body.error, "invalid_config");
          assert.match(r.body.message, /running config is unchanged/);
          assert.ok(
            r.body.errors.some((e: string) => /proxy\.toml:\d+: .*imap_capabilitiez/.test(e)),
            r.body.errors,
          );
          assert.ok(await canConnect(secondPort), "the reloaded listener is still there");
          const fresh = await LineClient.open(port);
          await fresh.readUntilLine("* OK");
          assert.match(
            await command(fresh, "c1", "CAPABILITY"),
            /XOPSTEST/,
            "previous reload still in force",
          );
          fresh.close();
          assert.match(await command(relayed, "r3", "NOOP"), /r3 OK/);
          const status = await api(proxy, "/status");
          assert.equal(status.body.last_reload.ok, false);
          const metrics = (await api(proxy, "/metrics")).body as string;
          assert.match(metrics, /^mailproxy_config_reloads_total\{result="failed"\} 1$/m);
          assert.match(metrics, /^mailproxy_config_reloads_total\{result="ok"\} 1$/m);
          assert.match(metrics, /^mailproxy_config_last_reload_successful 0$/m);
        });

        await t.step("SIGHUP reloads too: the second listener goes away", async () => {
          rewrite(proxy.configFile, config(auth.url, port));
          proxy.signal("SIGHUP");
          assert.ok(await waitFor(async () => !(await canConnect(secondPort))), "second listener closed");
          assert.match(await command(relayed, "r4", "NOOP"), /r4 OK/, "relayed session still alive");
          assert.match(await command(relayed, "r5", "LOGOUT"), /r5 OK/);
          // Logging was set up again from the new [log] table and still writes JSON lines.
          assert.ok(
            await waitFor(() => (proxy.logs().match(/"message":"config reloaded from /g) ?? []).length === 2),
          );
          const status = await api(proxy, "/status");
          assert.equal(status.body.last_reload.ok, true);
          assert.deepEqual(status.body.listeners.map((l: { listen: string }) => l.listen), [
            `127.0.0.1:${port}`,
          ]);
        });

        await t.step("metrics cover connections, logins, backends and relayed bytes", async () => {
          const m = (await api(proxy, "/metrics")).body as string;
          assert.match(m, /^mailproxy_connections_accepted_total\{protocol="imap",server="0"\} \d+$/m);
          assert.match(m, /^mailproxy_logins_total\{method="plain",protocol="imap",result="ok"\} \d+$/m);
          assert.match(
            m,
            new RegExp(
              `^mailproxy_backend_connect_duration_seconds_count\\{backend="${backend}"\\} \\d+$`,
              "m",
            ),
          );
          assert.match(m, /^mailproxy_tls_handshakes_total\{protocol="imap",server="0"\} 0$/m);
          assert.match(m, /^mailproxy_build_info\{runtime="[a-z]+ [^"]+",version="[^"]+"\} 1$/m);
          assert.match(m, /^mailproxy_sessions_total\{end="aborted",protocol="imap"\} [1-9]/m);
        });

        await t.step("no password or token reaches the logs", () => {
          assert.ok(!proxy.logs().includes("alicepass"));
          assert.ok(!proxy.logs().includes("bobpass"));
          assert.ok(!proxy.logs().includes(ADMIN_TOKEN));
        });
      } finally {
        for (const c of open) c.close();
        const code = await proxy.stop();
        assert.equal(code, 0, `exit code; logs:\n${proxy.logs()}`);
      }
    },
  });
}

Deno.test({
  name: "ops admin lab teardown",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    if (labPromise) await (await labPromise).stop();
  },
});
