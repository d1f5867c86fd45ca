/**
 * auth_http_keepalive end to end: mailproxy (under Deno and under Bun) in front of real
 * Dovecot, asking the lab's auth service, which counts the TCP connections it accepts.
 */

import assert from "node:assert/strict";
import { freePort } from "./lab/ports.ts";
import { startAuthService } from "./lab/auth_service.ts";
import { startDovecot } from "./lab/dovecot.ts";
import { startProxy } from "./helpers/proxy_process.ts";
import { RUNTIMES } from "./helpers/runtimes.ts";

async function curlList(port: number): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command("curl", {
    args: ["-sS", "--max-time", "20", `pop3://127.0.0.1:${port}/`, "--user", "alice:alicepass"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

const LOGINS = 5;

for (const runtime of RUNTIMES) {
  Deno.test({
    name: `auth_http keep-alive on ${runtime}: logins reuse one auth connection; off opens one per login`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      const dovecot = await startDovecot();
      dovecot.addMessage("alice", "From: bob@example.com\r\nSubject: hi\r\n\r\nHello.\r\n");
      const auth = await startAuthService({
        backends: { pop3: { host: "127.0.0.1", port: dovecot.pop3Port } },
      });
      const keepPort = await freePort();
      const plainPort = await freePort();
      const proxy = await startProxy(
        runtime,
        `
auth_http = "${auth.url}"
timeout = "10s"

[[server]]
listen = "127.0.0.1:${keepPort}"
protocol = "pop3"
auth_http_keepalive = 4

[[server]]
listen = "127.0.0.1:${plainPort}"
protocol = "pop3"
`,
        [keepPort, plainPort],
      );
      try {
        await t.step(`${LOGINS} logins with auth_http_keepalive = 4: one connection`, async () => {
          for (let i = 0; i < LOGINS; i++) {
            const r = await curlList(keepPort);
            assert.equal(r.code, 0, r.stderr);
            assert.match(r.stdout, /^\d+ \d+\r?\n/);
          }
          assert.equal(auth.requests.length, LOGINS);
          for (const h of auth.requests) assert.equal(h["Connection"], "keep-alive");
          assert.equal(auth.connections, 1);
        });
        await t.step(`${LOGINS} logins without it: one connection each, no Connection header`, async () => {
          const before = auth.connections;
          for (let i = 0; i < LOGINS; i++) assert.equal((await curlList(plainPort)).code, 0);
          assert.equal(auth.connections - before, LOGINS);
          for (const h of auth.requests.slice(LOGINS)) assert.equal(h["Connection"], undefined);
        });
        await t.step(
          "the auth service restarts: the next login still succeeds on a new connection",
          async () => {
            await auth.stop();
            const again = await startAuthService({
              port: auth.port,
              backends: { pop3: { host: "127.0.0.1", port: dovecot.pop3Port } },
            });
            try {
              const r = await curlList(keepPort);
              assert.equal(r.code, 0, r.stderr);
              assert.equal(again.connections, 1);
            } finally {
              await again.stop();
            }
          },
        );
      } finally {
        await proxy.stop();
        await auth.stop();
        await dovecot.stop();
      }
    },
  });
}
