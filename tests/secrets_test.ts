/**
 * Passwords never reach logs, metrics or admin responses: drives every path where a
 * password passes through the proxy (successful and failed logins, LOGIN and
 * AUTHENTICATE, Auth-Pass from the auth service, a backend that echoes the
 * password in its refusal, refused injections, parse errors) with debug logging in
 * text and JSON form, then scans everything the proxy said. The suite-wide scan of
 * every proxy's log is tests/secrets_scan.ts.
 */

import assert from "node:assert/strict";
import { startAuthService } from "./lab/auth_service.ts";
import { freePort } from "./lab/ports.ts";
import { LineClient } from "./helpers/line_client.ts";
import { startProxy } from "./helpers/proxy_process.ts";
import { findSecrets, metricsText, startFakeImapBackend } from "./helpers/robustness.ts";
import { RUNTIMES } from "./helpers/runtimes.ts";

const PASS = "Zq9-secret-pass";
const PLAIN_TOKEN = btoa(`\0carol\0${PASS}`);

async function session(port: number, lines: string[], until: string): Promise<string> {
  const c = await LineClient.open(port);
  try {
    await c.readUntilLine("* OK");
    let text = "";
    for (const line of lines) {
      c.send(line);
      text += await c.read(() => false, 150, 2000);
    }
    if (!text.includes(until)) text += await c.read((t) => t.includes(until), 1000, 5000);
    return text;
  } finally {
    c.close();
  }
}

for (const [runtime, format] of RUNTIMES.map((r, i) => [r, i === 0 ? "text" : "json"] as const)) {
  Deno.test({
    name: `no password in logs, metrics or admin responses on ${runtime} (${format} logs)`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const normal = await startFakeImapBackend("normal");
      const leaky = await startFakeImapBackend("reject-login");
      const auth = await startAuthService({
        backends: { imap: { host: "127.0.0.1", port: normal.port } },
        users: { alice: "alicepass", carol: PASS, dave: PASS },
      });
      auth.script((h) =>
        h["Auth-User"] === "dave"
          ? { "Auth-Status": "OK", "Auth-Server": "127.0.0.1", "Auth-Port": String(leaky.port) }
          : undefined
      );
      const port = await freePort();
      const proxy = await startProxy(
        runtime,
        `
auth_http = "${auth.url}"
imap_auth = ["plain", "login", "cram-md5"]

[log]
level = "debug"
format = "${format}"

[[server]]
listen = "127.0.0.1:${port}"
protocol = "imap"
`,
        [port],
      );
      let admin = "";
      try {
        assert.match(await session(port, [`a1 LOGIN carol ${PASS}\r\n`, "a2 NOOP\r\n"], "a2 "), /a2 OK/);
        assert.match(await session(port, [`a1 AUTHENTICATE PLAIN ${PLAIN_TOKEN}\r\n`], "a1 "), /a1 OK/);
        assert.match(
          await session(
            port,
            ["a1 AUTHENTICATE LOGIN\r\n", `${btoa("carol")}\r\n`, `${btoa(PASS)}\r\n`],
            "a1 ",
          ),
          /a1 OK/,
        );
        // Auth-Pass from the auth service replaces the client's password towards the backend.
        assert.match(await session(port, ["a1 LOGIN renamed renamedpass\r\n"], "a1 "), /a1 OK/);
        // Wrong password: failed login, logged with the reason.
        assert.match(await session(port, [`a1 LOGIN carol ${PASS}x\r\n`], "a1 "), /a1 NO/);
        // The backend echoes the password in its refusal; the log line must not.
        assert.match(await session(port, [`a1 LOGIN dave ${PASS}\r\n`], "\r\n"), /internal server error/);
        // Refused input carrying the password: too many arguments, CR/LF injection, junk.
        await session(port, [
          `a1 LOGIN carol ${PASS} extra\r\n`,
          `a2 LOGIN carol {${PASS.length + 2}}\r\n`,
          `${PASS}\r\n`,
          `${PASS}\r\n`,
        ], "\r\n");
        // A live session while the admin API is read.
        const live = await LineClient.open(port);
        await live.readUntilLine("* OK");
        live.send(`a1 LOGIN carol ${PASS}\r\n`);
        await live.readUntilLine("a1 ");
        for (const path of ["/status", "/metrics", "/sessions", "/"]) {
          admin += await (await fetch(`${proxy.adminUrl}${path}`)).text();
        }
        live.close();
        admin += await metricsText(proxy.adminUrl);
      } finally {
        await proxy.stop();
        await auth.stop();
        await normal.stop();
        await leaky.stop();
      }
      const logs = proxy.logs();
      // Not vacuous: the logs saw these logins and the leaky backend's refusal.
      assert.match(logs, /carol/);
      assert.match(logs, /invalid response to password/);
      assert.ok(admin.includes("mailproxy_logins_total"));
      assert.deepEqual(findSecrets(logs, [PASS, PLAIN_TOKEN, "renamedpass", "alicepass"]), []);
      assert.deepEqual(findSecrets(admin, [PASS, PLAIN_TOKEN, "renamedpass", "alicepass"]), []);
    },
  });
}

Deno.test("the secret scanner finds raw and encoded passwords (the scan can fail)", () => {
  assert.equal(findSecrets(`x ${PASS} y`, [PASS]).length, 1);
  assert.equal(findSecrets(`Auth-Pass: ${encodeURIComponent("a b%c")}`, ["a b%c"]).length, 1);
  assert.equal(findSecrets(`token ${btoa(PASS)}`, [PASS]).length, 1);
  assert.deepEqual(findSecrets("nothing here", [PASS]), []);
});
