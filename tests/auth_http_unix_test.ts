/**
 * `auth_http = "unix:/path:/uri"` end to end: the lab's auth service listens on a UNIX
 * socket, mailproxy (under Deno and under Bun) passes `--check` with that config and logs
 * IMAP and POP3 users into real Dovecot through it, with and without auth_http_keepalive.
 */

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./lab/ports.ts";
import { startAuthService } from "./lab/auth_service.ts";
import { startDovecot } from "./lab/dovecot.ts";
import { startProxy } from "./helpers/proxy_process.ts";
import { waitForLog } from "./helpers/robustness.ts";
import { run } from "./helpers/run.ts";
import { runCommand, RUNTIMES } from "./helpers/runtimes.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const LOGINS = 3;

function curl(url: string, user = "alice:alicepass") {
  return run("curl", ["-sS", "--max-time", "20", url, "--user", user]);
}

for (const runtime of RUNTIMES) {
  Deno.test({
    name: `auth_http over a UNIX socket on ${runtime}: --check passes and logins reach Dovecot`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      const dir = mkdtempSync(join(tmpdir(), "mailproxy-auth-unix-"));
      const dovecot = await startDovecot();
      dovecot.addMessage("alice", "From: bob@example.com\r\nSubject: over unix\r\n\r\nHello.\r\n");
      const auth = await startAuthService({
        unixPath: join(dir, "auth.sock"),
        backends: {
          imap: { host: "127.0.0.1", port: dovecot.imapPort },
          pop3: { host: "127.0.0.1", port: dovecot.pop3Port },
        },
      });
      assert.match(auth.url, /^unix:\/.*\/auth\.sock:\/auth$/);
      const keepPort = await freePort();
      const plainPort = await freePort();
      const config = `
auth_http = "${auth.url}"
timeout = "10s"

[[server]]
listen = "127.0.0.1:${keepPort}"
protocol = "imap"
auth_http_keepalive = 4

[[server]]
listen = "127.0.0.1:${plainPort}"
protocol = "pop3"
`;
      try {
        await t.step("--check accepts the unix: URL", async () => {
          const file = join(dir, "check.toml");
          writeFileSync(file, config);
          const [cmd, ...args] = runCommand(runtime);
          const r = await run(cmd, [...args, join(ROOT, "main.ts"), "--check", "--config", file]);
          assert.equal(r.code, 0, r.stdout + r.stderr);
        });

        const proxy = await startProxy(runtime, config, [keepPort, plainPort]);
        try {
          await t.step(`${LOGINS} IMAP logins with auth_http_keepalive: one auth connection`, async () => {
            for (let i = 0; i < LOGINS; i++) {
              const r = await curl(`imap://127.0.0.1:${keepPort}/INBOX;UID=1`);
              assert.equal(r.code, 0, r.stderr + proxy.logs());
              assert.match(r.stdout, /Subject: over unix/);
            }
            assert.equal(auth.requests.length, LOGINS);
            for (const h of auth.requests) {
              assert.equal(h["Auth-Protocol"], "imap");
              assert.equal(h["Host"], "localhost", "nginx's Host header for unix: URLs");
              assert.equal(h["Connection"], "keep-alive");
            }
            assert.equal(auth.connections, 1);
          });

          await t.step("POP3 without keep-alive: a connection per login, the same wire request", async () => {
            const before = auth.connections;
            for (let i = 0; i < LOGINS; i++) {
              const r = await curl(`pop3://127.0.0.1:${plainPort}/1`);
              assert.equal(r.code, 0, r.stderr);
              assert.match(r.stdout, /Subject: over unix/);
            }
            assert.equal(auth.connections - before, LOGINS);
            const last = auth.rawRequests.at(-1)!;
            assert.match(last, /^GET \/auth HTTP\/1\.0\r\nHost: localhost\r\nAuth-Method: plain\r\n/);
            assert.doesNotMatch(last, /Connection:/);
          });

          await t.step("a wrong password is refused by the service behind the socket", async () => {
            const r = await curl(`pop3://127.0.0.1:${plainPort}/1`, "alice:wrong");
            assert.notEqual(r.code, 0);
            assert.equal(auth.requests.at(-1)?.["Auth-User"], "alice");
          });

          await t.step("the socket goes away: logins get the internal error, the proxy lives", async () => {
            await auth.stop();
            const r = await curl(`pop3://127.0.0.1:${plainPort}/1`);
            assert.notEqual(r.code, 0);
            const logged = /auth http server unix:\/\S+auth\.sock connect failed/;
            assert.ok(await waitForLog(proxy.logs, logged), proxy.logs().slice(-2000));
            assert.equal(await fetch(`${proxy.adminUrl}/status`).then((res) => res.status), 200);
          });
        } finally {
          await proxy.stop();
        }
      } finally {
        await auth.stop();
        await dovecot.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  });
}
