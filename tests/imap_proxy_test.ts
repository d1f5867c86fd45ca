/**
 * IMAP end to end: real Dovecot behind mailproxy (started as a process under Deno
 * and under Bun), driven by curl, Python imaplib and raw transcripts, with logins
 * decided by the auth_http service and by built-in static users.
 */

import { python, run } from "./helpers/run.ts";
import assert from "node:assert/strict";
import { hashPassword } from "../lib/auth/password_hash.ts";
import { freePort } from "./lab/ports.ts";
import { type AuthService, startAuthService } from "./lab/auth_service.ts";
import { type Dovecot, startDovecot } from "./lab/dovecot.ts";
import { LineClient } from "./helpers/line_client.ts";
import { type ProxyProcess, startProxy } from "./helpers/proxy_process.ts";
import { RUNTIMES } from "./helpers/runtimes.ts";

/** A 2 MB message with varied bytes, for the byte-exact FETCH test. */
function bigMessage(): string {
  const lines = ["From: bob@example.com", "To: alice@example.com", "Subject: big one", ""];
  let size = 0;
  for (let i = 0; size < 2_000_000; i++) {
    const line = `line ${i} ${"abcdefghijklmnopqrstuvwxyz0123456789".repeat(2).slice(i % 36)}`;
    lines.push(line);
    size += line.length + 2;
  }
  return lines.join("\r\n") + "\r\n";
}

interface Lab {
  dovecot: Dovecot;
  auth: AuthService;
  big: string;
}

let labPromise: Promise<Lab> | undefined;
function lab(): Promise<Lab> {
  labPromise ??= (async () => {
    const dovecot = await startDovecot();
    dovecot.addMessage(
      "alice",
      "From: bob@example.com\r\nTo: alice@example.com\r\nSubject: hello alice\r\n\r\nHi there.\r\n",
    );
    const big = bigMessage();
    dovecot.addMessage("alice", big);
    const auth = await startAuthService({
      backends: { imap: { host: "127.0.0.1", port: dovecot.imapPort } },
    });
    return { dovecot, auth, big };
  })();
  return labPromise;
}

for (const runtime of RUNTIMES) {
  Deno.test({
    name: `imap proxy on ${runtime}`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      const { dovecot, auth, big } = await lab();
      const httpPort = await freePort();
      const staticPort = await freePort();
      const alice = await hashPassword("alicepass");
      const proxy: ProxyProcess = await startProxy(
        runtime,
        `
server_name = "proxy.test"
auth_http = "${auth.url}"
timeout = "10s"

[log]
level = "info"

[[server]]
listen = "127.0.0.1:${httpPort}"
protocol = "imap"
imap_auth = ["plain", "login", "cram-md5"]

[[server]]
listen = "127.0.0.1:${staticPort}"
protocol = "imap"
auth = "static"

[static_auth]
backend = "127.0.0.1:${dovecot.imapPort}"

[[static_auth.user]]
name = "alice"
password = "${alice}"
`,
        [httpPort, staticPort],
      );
      try {
        for (const [how, port] of [["auth_http", httpPort], ["static users", staticPort]] as const) {
          await t.step(`curl lists alice's INBOX via ${how}`, async () => {
            const r = await run("curl", [
              "-sS",
              "--max-time",
              "20",
              `imap://127.0.0.1:${port}/INBOX?ALL`,
              "--user",
              "alice:alicepass",
            ]);
            assert.equal(r.code, 0, r.stderr);
            assert.match(r.stdout, /\* SEARCH 1 2/);
          });
          await t.step(`curl fetches message 1 via ${how}`, async () => {
            const r = await run("curl", [
              "-sS",
              "--max-time",
              "20",
              `imap://127.0.0.1:${port}/INBOX;UID=1`,
              "--user",
              "alice:alicepass",
            ]);
            assert.equal(r.code, 0, r.stderr);
            assert.match(r.stdout, /Subject: hello alice/);
          });
          await t.step(`wrong password is refused via ${how}`, async () => {
            const r = await run("curl", [
              "-sS",
              "--max-time",
              "20",
              `imap://127.0.0.1:${port}/INBOX?ALL`,
              "--user",
              "alice:wrong",
            ]);
            assert.notEqual(r.code, 0);
            assert.match(r.stderr, /Login denied|denied|67/i);
          });
        }

        await t.step("imaplib LOGIN, SELECT, and a 2 MB FETCH relayed byte-exact", async () => {
          const r = await python(
            `import imaplib,sys,hashlib
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
typ, _ = m.login("alice", "alicepass"); assert typ == "OK", typ
m.select("INBOX")
typ, data = m.fetch("2", "(BODY.PEEK[])")
body = data[0][1]
print(len(body), hashlib.sha256(body).hexdigest())
m.logout()`,
            String(httpPort),
          );
          assert.equal(r.code, 0, r.stderr);
          const expected = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(big));
          const hex = [...new Uint8Array(expected)].map((b) => b.toString(16).padStart(2, "0")).join("");
          assert.equal(r.stdout.trim(), `${big.length} ${hex}`);
        });

        await t.step("LOGIN with synchronising literals", async () => {
          const c = await LineClient.open(httpPort);
          try {
            assert.equal(await c.readUntilLine("* OK"), "* OK IMAP4 ready\r\n");
            c.send("a1 LOGIN {5}\r\n");
            assert.equal(await c.readUntilLine("+"), "+ OK\r\n");
            c.send("alice {9}\r\n");
            assert.equal(await c.readUntilLine("+"), "+ OK\r\n");
            c.send("alicepass\r\n");
            assert.match(await c.readUntilLine("a1 "), /a1 OK/);
            c.send("a2 LOGOUT\r\n");
            assert.match(await c.readUntilLine("a2 "), /\* BYE[^]*a2 OK/);
          } finally {
            c.close();
          }
        });

        await t.step("commands pipelined after LOGIN reach the backend", async () => {
          const c = await LineClient.open(httpPort);
          try {
            await c.readUntilLine("* OK");
            c.send("a1 LOGIN alice alicepass\r\na2 SELECT INBOX\r\na3 LOGOUT\r\n");
            const text = await c.readUntilLine("a3 ");
            assert.match(text, /a1 OK/);
            assert.match(text, /\* 2 EXISTS[^]*a2 OK/);
            assert.match(text, /a3 OK/);
          } finally {
            c.close();
          }
        });

        await t.step("AUTHENTICATE PLAIN with a continuation", async () => {
          const c = await LineClient.open(httpPort);
          try {
            await c.readUntilLine("* OK");
            c.send("x AUTHENTICATE PLAIN\r\n");
            assert.equal(await c.readUntilLine("+"), "+ \r\n");
            c.send(btoa("\0alice\0alicepass") + "\r\n");
            assert.match(await c.readUntilLine("x "), /x OK/);
          } finally {
            c.close();
          }
        });

        await t.step("Auth-Status WAIT is retried and then logs in", async () => {
          const before = auth.requests.length;
          const r = await python(
            `import imaplib,sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
print(m.login("waituser", "waitpass")[0])`,
            String(httpPort),
          );
          assert.equal(r.code, 0, r.stderr);
          assert.equal(r.stdout.trim(), "OK");
          const mine = auth.requests.slice(before).filter((h) => h["Auth-User"] === "waituser");
          assert.equal(mine.length, 2, "one WAIT and one OK request");
          assert.deepEqual(mine.map((h) => h["Auth-Login-Attempt"]), ["1", "1"]);
        });

        await t.step(
          "a refusal with Auth-Wait waits, answers NO, and lets the client try again",
          async () => {
            const c = await LineClient.open(httpPort);
            try {
              await c.readUntilLine("* OK");
              const started = Date.now();
              c.send("a1 LOGIN slowfail whatever\r\n");
              assert.equal(await c.readUntilLine("a1 "), "a1 NO Temporary failure\r\n");
              assert.ok(Date.now() - started >= 900, "Auth-Wait: 1 delays the reply");
              c.send("a2 LOGIN alice alicepass\r\n");
              assert.match(await c.readUntilLine("a2 "), /^a2 OK/m);
            } finally {
              c.close();
            }
          },
        );

        await t.step("backend down gives the internal error", async () => {
          const c = await LineClient.open(httpPort);
          try {
            await c.readUntilLine("* OK");
            c.send("a1 LOGIN down down\r\n");
            assert.equal(await c.readUntilLine("* BAD"), "* BAD internal server error\r\n");
            assert.ok(await c.waitClosed());
          } finally {
            c.close();
          }
        });

        await t.step("auth_http request headers are nginx's", () => {
          const req = auth.requests.find((h) => h["Auth-User"] === "alice" && h["Auth-Method"] === "plain")!;
          assert.ok(req, "a plain request for alice arrived");
          assert.equal(req["Auth-Protocol"], "imap");
          assert.equal(req["Client-IP"], "127.0.0.1");
          assert.equal(req["Auth-Pass"], "alicepass");
        });

        await t.step("/status and /metrics reflect the logins", async () => {
          const status = await (await fetch(`${proxy.adminUrl}/status`)).json();
          assert.ok(status.logins.ok >= 6, JSON.stringify(status.logins));
          assert.ok(status.logins.failed >= 2, JSON.stringify(status.logins));
          assert.equal(status.runtime.split(" ")[0], runtime);
          const metrics = await (await fetch(`${proxy.adminUrl}/metrics`)).text();
          const ok = metrics.match(
            /^mailproxy_logins_total\{method="plain",protocol="imap",result="ok"\} (\d+)$/m,
          );
          assert.ok(ok && Number(ok[1]) >= 6, metrics);
          assert.match(
            metrics,
            /^mailproxy_relayed_bytes_total\{direction="downstream",protocol="imap"\} \d{7,}$/m,
          );
        });

        await t.step("no password ever reaches the logs", () => {
          assert.ok(!proxy.logs().includes("alicepass"), proxy.logs());
          assert.match(proxy.logs(), /client logged in/);
        });
      } finally {
        const code = await proxy.stop();
        assert.equal(code, 0, `exit code; logs:\n${proxy.logs()}`);
      }
    },
  });
}

Deno.test({
  name: "imap lab teardown",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    if (!labPromise) return;
    const { dovecot, auth } = await labPromise;
    await auth.stop();
    await dovecot.stop();
  },
});
