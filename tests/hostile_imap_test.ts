/**
 * Hostile IMAP clients against the real proxy process (Deno and Bun): oversized
 * lines and literals, NUL and 8-bit bytes, invalid base64, CR/LF smuggled into
 * credentials (checked at the auth service's raw requests and at a recording
 * backend), slowloris clients under `timeout`, TLS bytes on a plain port, and
 * 2 000 simultaneous connections against `max_connections`. After each, the
 * proxy must still serve a normal login.
 */

import assert from "node:assert/strict";
import { type AuthService, startAuthService } from "./lab/auth_service.ts";
import { freePort } from "./lab/ports.ts";
import { LineClient } from "./helpers/line_client.ts";
import { startProxy } from "./helpers/proxy_process.ts";
import {
  type FakeImapBackend,
  fdCount,
  findSecrets,
  metricsText,
  metricSum,
  rssKiB,
  sleep,
  startFakeImapBackend,
  waitForLog,
} from "./helpers/robustness.ts";
import { RUNTIMES } from "./helpers/runtimes.ts";

const BOB_PASS = "b0b %pass word";
const SECRETS = ["alicepass", BOB_PASS];
/** Every smuggling attempt carries this marker; it must reach neither the auth service nor a backend. */
const MARK = "INJECTED";

interface Lab {
  backend: FakeImapBackend;
  auth: AuthService;
}

let labPromise: Promise<Lab> | undefined;
function lab(): Promise<Lab> {
  labPromise ??= (async () => {
    const backend = await startFakeImapBackend("normal");
    const auth = await startAuthService({
      backends: { imap: { host: "127.0.0.1", port: backend.port } },
      users: { alice: "alicepass", bob: BOB_PASS },
    });
    return { backend, auth };
  })();
  return labPromise;
}

/** Connects and reads the greeting. */
async function open(port: number): Promise<LineClient> {
  const c = await LineClient.open(port);
  assert.equal(await c.readUntilLine("* OK"), "* OK IMAP4 ready\r\n");
  return c;
}

/** A full normal login through the proxy, then LOGOUT: the proxy is still healthy. */
async function normalLogin(port: number, tag = "n1"): Promise<void> {
  const c = await open(port);
  try {
    c.send(`${tag} LOGIN alice alicepass\r\n`);
    assert.match(await c.readUntilLine(`${tag} `), new RegExp(`${tag} OK LOGIN completed`));
    c.send(`${tag}b LOGOUT\r\n`);
    assert.match(await c.readUntilLine(`${tag}b `), /OK LOGOUT/);
  } finally {
    c.close();
  }
}

function b64(binary: string): string {
  return btoa(binary);
}

for (const runtime of RUNTIMES) {
  Deno.test({
    name: `hostile IMAP clients on ${runtime}`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      const { backend, auth } = await lab();
      const port = await freePort();
      const slowPort = await freePort();
      const proxy = await startProxy(
        runtime,
        `
auth_http = "${auth.url}"
timeout = "30s"
imap_client_buffer = "4k"
imap_auth = ["plain", "login", "cram-md5"]

[log]
level = "info"

[[server]]
listen = "127.0.0.1:${port}"
protocol = "imap"

[[server]]
listen = "127.0.0.1:${slowPort}"
protocol = "imap"
timeout = "2s"
`,
        [port, slowPort],
      );
      const baseRss = rssKiB(proxy.pid);
      let adminText = "";
      try {
        await t.step("a line far over imap_client_buffer is refused and closed", async () => {
          const c = await open(port);
          c.send("a1 " + "x".repeat(1 << 20));
          const reply = await c.read(() => false, 2000, 10_000);
          assert.ok(c.closed, "connection left open after a 1 MB line");
          // The reply may be lost to the RST of unread data; when it arrives it is the tagged BAD.
          assert.ok(reply === "" || reply === "a1 BAD invalid command\r\n", JSON.stringify(reply));
          c.close();
          await normalLogin(port);
        });

        await t.step("literals announcing gigabytes neither allocate nor hang", async () => {
          const c = await open(port);
          c.send("a1 LOGIN {99999999999999999999}\r\n");
          assert.equal(await c.readUntilLine("a1 "), "a1 BAD invalid command\r\n");
          c.send("a2 LOGIN {4294967296}\r\n");
          assert.equal(await c.readUntilLine("+"), "+ OK\r\n");
          c.send("y".repeat(64 * 1024));
          await c.read(() => false, 1000, 10_000);
          assert.ok(c.closed, "literal data past the buffer must close the connection");
          c.close();
          const d = await open(port);
          d.send("a3 LOGIN {4294967296+}\r\n" + "z".repeat(8192));
          await d.read(() => false, 1000, 10_000);
          assert.ok(d.closed);
          d.close();
          assert.ok(rssKiB(proxy.pid) - baseRss < 64 * 1024, "RSS grew by 64 MB");
          await normalLogin(port);
        });

        await t.step("NUL and 8-bit bytes get invalid-command replies, the session goes on", async () => {
          const c = await open(port);
          try {
            c.send("a1 LOGIN \0\xff\x80 pass\r\n");
            assert.equal(await c.readUntilLine("a1 "), "a1 BAD invalid command\r\n");
            c.send("\xff\xfe\xfd\0\r\n");
            assert.equal(await c.readUntilLine("*"), "* BAD invalid command\r\n");
            c.send("a\x002 NOOP\r\n");
            assert.equal(await c.readUntilLine("*"), "* BAD invalid command\r\n");
            c.send("a3 NOOP\r\n");
            assert.equal(await c.readUntilLine("a3 "), "a3 OK completed\r\n");
          } finally {
            c.close();
          }
        });

        await t.step("invalid base64 in AUTHENTICATE is refused", async () => {
          const c = await open(port);
          try {
            c.send("a1 AUTHENTICATE PLAIN\r\n");
            assert.equal(await c.readUntilLine("+"), "+ \r\n");
            c.send("!!!not base64!!!\r\n");
            assert.equal(await c.readUntilLine("a1 "), "a1 BAD invalid command\r\n");
            c.send("a2 AUTHENTICATE PLAIN A\r\n");
            assert.equal(await c.readUntilLine("a2 "), "a2 BAD invalid command\r\n");
            c.send("a3 AUTHENTICATE LOGIN\r\n");
            assert.equal(await c.readUntilLine("+"), "+ VXNlcm5hbWU6\r\n");
            c.send("*\r\n");
            assert.equal(await c.readUntilLine("BAD"), "BAD invalid command\r\n");
            c.send("a4 NOOP\r\n");
            assert.equal(await c.readUntilLine("a4 "), "a4 OK completed\r\n");
          } finally {
            c.close();
          }
        });

        await t.step(
          "CR/LF smuggled in credentials reaches neither the auth service nor the backend",
          async () => {
            const authBefore = auth.rawRequests.length;
            const c = await open(port);
            try {
              const user = `alice\r\na9 DELETE ${MARK}`;
              c.send(`a1 LOGIN {${user.length}}\r\n`);
              assert.equal(await c.readUntilLine("+"), "+ OK\r\n");
              c.send(`${user} alicepass\r\n`);
              assert.equal(await c.readUntilLine("a1 "), "a1 BAD invalid command\r\n");

              const pass = `alicepass\r\nX-${MARK}: 1`;
              c.send(`a2 LOGIN alice {${pass.length}}\r\n`);
              assert.equal(await c.readUntilLine("+"), "+ OK\r\n");
              c.send(`${pass}\r\n`);
              assert.equal(await c.readUntilLine("a2 "), "a2 BAD invalid command\r\n");

              c.send(`a3 AUTHENTICATE PLAIN ${b64(`\0alice\r\na9 ${MARK}\0alicepass`)}\r\n`);
              assert.equal(await c.readUntilLine("a3 "), "a3 BAD invalid command\r\n");
              c.send(`a4 AUTHENTICATE PLAIN ${b64(`\0alice\0alicepass\nX-${MARK}: 1`)}\r\n`);
              assert.equal(await c.readUntilLine("a4 "), "a4 BAD invalid command\r\n");

              c.send("a5 AUTHENTICATE LOGIN\r\n");
              await c.readUntilLine("+");
              c.send(`${b64(`alice\r\nX-${MARK}: 1`)}\r\n`);
              assert.equal(await c.readUntilLine("BAD"), "BAD invalid command\r\n");

              c.send("a6 AUTHENTICATE LOGIN\r\n");
              await c.readUntilLine("+");
              c.send(`${b64("alice")}\r\n`);
              assert.equal(await c.readUntilLine("+"), "+ UGFzc3dvcmQ6\r\n");
              c.send(`${b64(`alicepass\0${MARK}`)}\r\n`);
              assert.equal(await c.readUntilLine("a6 "), "a6 BAD invalid command\r\n");

              c.send("a7 AUTHENTICATE CRAM-MD5\r\n");
              await c.readUntilLine("+");
              c.send(`${b64(`alice\r\n${MARK} ${"0".repeat(32)}`)}\r\n`);
              assert.equal(await c.readUntilLine("a7 "), "a7 BAD invalid command\r\n");

              // Quoted strings end at CR/LF, so the rest of the line is a new (invalid) command.
              c.send(`a8 LOGIN "alice\r\na9 ${MARK} x" "alicepass"\r\n`);
              const text = await c.read((t) => (t.match(/\r\n/g) ?? []).length >= 2);
              assert.doesNotMatch(text, /OK/);

              // The same connection still logs in normally afterwards.
              c.send("b1 LOGIN alice alicepass\r\nb2 NOOP\r\n");
              const done = await c.readUntilLine("b2 ");
              assert.match(done, /b1 OK LOGIN completed[^]*b2 OK NOOP completed/);
            } finally {
              c.close();
            }
            const raw = auth.rawRequests.slice(authBefore);
            assert.ok(raw.length >= 1, "the final login reached the auth service");
            for (const r of raw) {
              assert.ok(!r.includes(MARK), `smuggled bytes reached the auth service:\n${r}`);
            }
            for (const tr of backend.transcripts) {
              assert.ok(!tr.includes(MARK), `smuggled bytes reached the backend:\n${JSON.stringify(tr)}`);
            }
          },
        );

        await t.step(
          "passwords with spaces and % reach the auth service escaped, as one header",
          async () => {
            const before = auth.rawRequests.length;
            const c = await open(port);
            try {
              c.send(`a1 LOGIN bob "${BOB_PASS}"\r\n`);
              assert.match(await c.readUntilLine("a1 "), /a1 OK LOGIN completed/);
            } finally {
              c.close();
            }
            const raw = auth.rawRequests.slice(before).join("");
            assert.match(raw, /\r\nAuth-Pass: b0b%20%25pass%20word\r\n/);
          },
        );

        await t.step("slowloris clients are closed by timeout", async () => {
          const started = Date.now();
          const clients = await Promise.all(Array.from({ length: 40 }, () => open(slowPort)));
          clients.forEach((c, i) => {
            if (i % 3 === 0) c.send("a1 LOG");
            if (i % 3 === 1) c.send("a1 LOGIN {5}\r\n");
          });
          // A trickler: one byte every 300 ms does not refresh the pre-auth deadline.
          const trickle = clients[2];
          const timer = setInterval(() => !trickle.closed && trickle.send("x"), 300);
          try {
            const closed = await Promise.all(clients.map((c) => c.waitClosed(8000)));
            assert.ok(closed.every(Boolean), `${closed.filter((x) => !x).length} slow clients still open`);
          } finally {
            clearInterval(timer);
            clients.forEach((c) => c.close());
          }
          const elapsed = Date.now() - started;
          assert.ok(elapsed >= 1500 && elapsed < 8000, `closed after ${elapsed} ms with timeout 2s`);
          assert.ok(await waitForLog(proxy.logs, /client timed out/), "no 'client timed out' log line");
          await normalLogin(port);
        });

        await t.step("a TLS ClientHello on a plain port gets invalid-command replies, no crash", async () => {
          const c = await open(port);
          const hello = "\x16\x03\x01\x00\xc8\x01\x00\x00\xc4\x03\x03" + "\x5a".repeat(32) +
            "\x00\x00\x02\x13\x01" +
            "\x01\x00\x00\x99\x00\x00\x00\x10\x00\x0e\x00\x00\x0bexample.com";
          c.send(hello);
          const reply = await c.read(() => false, 500, 5000);
          for (const line of reply.split("\r\n").slice(0, -1)) {
            assert.match(line, /^(\* |[A-Za-z0-9._-]+ )BAD invalid command$/);
          }
          c.close();
          await normalLogin(port);
        });

        await t.step("the proxy is healthy; metrics count the logins", async () => {
          assert.equal((await (await fetch(`${proxy.adminUrl}/healthz`)).text()).trim(), "ok");
          const metrics = await metricsText(proxy.adminUrl);
          const status = await (await fetch(`${proxy.adminUrl}/status`)).text();
          assert.ok(metricSum(metrics, "mailproxy_logins_total", { result: "ok" }) >= 5);
          adminText = metrics + status;
        });
      } finally {
        await proxy.stop();
      }
      // Scanned after exit, when every log line is flushed.
      assert.match(proxy.logs(), /login "alice" accepted/);
      assert.deepEqual(findSecrets(proxy.logs() + adminText, SECRETS), []);
    },
  });

  Deno.test({
    name: `2 000 simultaneous connections against max_connections on ${runtime}`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const { auth } = await lab();
      const port = await freePort();
      const proxy = await startProxy(
        runtime,
        `
auth_http = "${auth.url}"
timeout = "60s"
max_connections = 1500

[[server]]
listen = "127.0.0.1:${port}"
protocol = "imap"
`,
        [port],
      );
      const clients: LineClient[] = [];
      try {
        await sleep(300);
        const baseFds = fdCount(proxy.pid);
        // Open in waves of 200 so the test's own event loop keeps up; all stay open.
        for (let wave = 0; wave < 10; wave++) {
          clients.push(...await Promise.all(Array.from({ length: 200 }, () => LineClient.open(port))));
        }
        const firstLines = await Promise.all(
          clients.map((c) => c.read((t) => t.includes("\r\n"), 5000, 30_000)),
        );
        const greeted = firstLines.filter((l) => l === "* OK IMAP4 ready\r\n").length;
        const refused = firstLines.filter((l) =>
          l === "* BYE Too many connections, try again later\r\n"
        ).length;
        assert.equal(
          greeted + refused,
          2000,
          `unexpected first lines: ${firstLines.find((l) => !l.startsWith("* "))}`,
        );
        assert.equal(greeted, 1500);
        assert.equal(refused, 500);
        const metrics = await metricsText(proxy.adminUrl);
        assert.equal(
          metricSum(metrics, "mailproxy_connections_refused_total", { reason: "max_connections" }),
          500,
        );
        assert.ok(await waitForLog(proxy.logs, /refused: too many connections \(max_connections\)/));
        for (const c of clients) c.close();
        // Slots and descriptors come back once the clients are gone.
        const deadline = Date.now() + 15_000;
        while (fdCount(proxy.pid) > baseFds + 10 && Date.now() < deadline) await sleep(200);
        assert.ok(fdCount(proxy.pid) <= baseFds + 10, `fds ${fdCount(proxy.pid)} vs ${baseFds} before`);
        const again = await open(port);
        again.close();
      } finally {
        for (const c of clients) c.close();
        await proxy.stop();
      }
    },
  });
}

Deno.test({
  name: "hostile IMAP: stop the lab",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    if (!labPromise) return;
    const { backend, auth } = await labPromise;
    await auth.stop();
    await backend.stop();
  },
});
