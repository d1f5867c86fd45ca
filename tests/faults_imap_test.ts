/**
 * Fault injection around the IMAP proxy (Deno and Bun): the auth service refuses,
 * stalls past auth_http_timeout, answers garbage, 2 KiB of headers or closes in
 * the middle of its reply; the backend refuses, never greets, closes during login,
 * resets during the relay, or streams 200 MB to a client that stopped reading
 * (proxy RSS must stay bounded). Each fault gives the client the internal-error
 * reply (or a close during the relay) and a log line, while a normal login running
 * alongside succeeds.
 */

import assert from "node:assert/strict";
import { type AuthService, startAuthService } from "./lab/auth_service.ts";
import { freePort } from "./lab/ports.ts";
import { LineClient } from "./helpers/line_client.ts";
import { type ProxyProcess, startProxy } from "./helpers/proxy_process.ts";
import {
  type FakeImapBackend,
  findSecrets,
  metricsText,
  metricSum,
  rssKiB,
  sleep,
  startFakeImapBackend,
  waitForLog,
} from "./helpers/robustness.ts";
import { RUNTIMES } from "./helpers/runtimes.ts";

const INTERNAL = "* BAD internal server error\r\n";
const BIG = 200 * 1024 * 1024;

interface Lab {
  auth: AuthService;
  normal: FakeImapBackend;
  silent: FakeImapBackend;
  closing: FakeImapBackend;
  resetting: FakeImapBackend;
}

let labPromise: Promise<Lab> | undefined;
function lab(): Promise<Lab> {
  labPromise ??= (async () => {
    const [normal, silent, closing, resetting] = await Promise.all([
      startFakeImapBackend("normal"),
      startFakeImapBackend("silent"),
      startFakeImapBackend("close-on-login"),
      startFakeImapBackend("reset-after-login"),
    ]);
    const auth = await startAuthService({ backends: { imap: { host: "127.0.0.1", port: normal.port } } });
    const ok = (port: number) => ({
      "Auth-Status": "OK",
      "Auth-Server": "127.0.0.1",
      "Auth-Port": String(port),
    });
    // One script for the whole suite: the login name picks the fault; alice is served normally.
    auth.script(async (h) => {
      switch (h["Auth-User"]) {
        case "slowauth":
          await sleep(3000);
          return ok(normal.port);
        case "garbage":
          return "\x00\xff\x13 not http at all\r\n\r\n";
        case "bigheaders":
          return `HTTP/1.0 200 OK\r\nAuth-Status: OK\r\nX-Pad: ${"p".repeat(2048)}\r\n\r\n`;
        case "midreply":
          return "HTTP/1.0 200 OK\r\nAuth-Status: OK\r\nAuth-Ser";
        case "refusedbackend":
          return ok(auth.deadPort);
        case "silentbackend":
          return ok(silent.port);
        case "closingbackend":
          return ok(closing.port);
        case "resettingbackend":
          return ok(resetting.port);
        default:
          return undefined;
      }
    });
    return { auth, normal, silent, closing, resetting };
  })();
  return labPromise;
}

async function open(port: number): Promise<LineClient> {
  const c = await LineClient.open(port);
  assert.equal(await c.readUntilLine("* OK"), "* OK IMAP4 ready\r\n");
  return c;
}

/** Logs in as `user` and returns everything the client got until the proxy closed (or `maxMs`). */
async function loginOutcome(
  port: number,
  user: string,
  maxMs = 10_000,
): Promise<{ text: string; closed: boolean }> {
  const c = await open(port);
  try {
    c.send(`a1 LOGIN ${user} alicepass\r\n`);
    const text = await c.read(() => false, maxMs, maxMs);
    return { text, closed: c.closed };
  } finally {
    c.close();
  }
}

/** A normal login and a command, run alongside each fault. */
async function normalLogin(port: number): Promise<void> {
  const c = await open(port);
  try {
    c.send("n1 LOGIN alice alicepass\r\nn2 NOOP\r\n");
    assert.match(await c.readUntilLine("n2 "), /n1 OK LOGIN completed[^]*n2 OK NOOP completed/);
  } finally {
    c.close();
  }
}

/** Runs a fault and a normal login at the same time; returns the fault's outcome. */
async function withNeighbour<T>(port: number, fault: Promise<T>): Promise<T> {
  const [result] = await Promise.all([fault, sleep(100).then(() => normalLogin(port))]);
  return result;
}

for (const runtime of RUNTIMES) {
  Deno.test({
    name: `IMAP faults on ${runtime}`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      const { auth, normal } = await lab();
      const port = await freePort();
      const deadAuthPort = await freePort();
      const proxy: ProxyProcess = await startProxy(
        runtime,
        `
auth_http = "${auth.url}"
auth_http_timeout = "1s"
timeout = "3s"

[[server]]
listen = "127.0.0.1:${port}"
protocol = "imap"

[[server]]
listen = "127.0.0.1:${deadAuthPort}"
protocol = "imap"
auth_http = "http://127.0.0.1:${auth.deadPort}/auth"
`,
        [port, deadAuthPort],
      );
      let adminText = "";
      try {
        const authFault = async (name: string, user: string, p: number, log: RegExp) => {
          await t.step(name, async () => {
            const started = Date.now();
            const r = await withNeighbour(port, loginOutcome(p, user));
            assert.equal(r.text, INTERNAL);
            assert.ok(r.closed);
            assert.ok(Date.now() - started < 2900, `took ${Date.now() - started} ms`);
            assert.ok(await waitForLog(proxy.logs, log), `no log line ${log}`);
          });
        };
        await authFault(
          "auth service refuses connections",
          "alice",
          deadAuthPort,
          /auth failed for login "alice"/,
        );
        await authFault("auth service slower than auth_http_timeout", "slowauth", port, /"slowauth": .*tim/i);
        await authFault("auth service answers garbage", "garbage", port, /"garbage": .*invalid/);
        await authFault(
          "auth service sends 2 KiB of headers",
          "bigheaders",
          port,
          /"bigheaders": .*too long/,
        );
        await authFault("auth service closes in the middle of its reply", "midreply", port, /"midreply": /);

        await t.step("backend refuses the connection", async () => {
          const r = await withNeighbour(port, loginOutcome(port, "refusedbackend"));
          assert.equal(r.text, INTERNAL);
          assert.ok(await waitForLog(proxy.logs, /backend 127\.0\.0\.1:\d+ connect failed/));
        });

        await t.step("backend never greets: internal error after timeout", async () => {
          const started = Date.now();
          const r = await withNeighbour(port, loginOutcome(port, "silentbackend"));
          const took = Date.now() - started;
          assert.equal(r.text, INTERNAL);
          assert.ok(took >= 2500 && took < 6000, `closed after ${took} ms with timeout 3s`);
          assert.ok(await waitForLog(proxy.logs, /login failed: upstream timed out/));
        });

        await t.step("backend closes during login", async () => {
          const r = await withNeighbour(port, loginOutcome(port, "closingbackend"));
          assert.equal(r.text, INTERNAL);
          assert.ok(await waitForLog(proxy.logs, /login failed: upstream closed connection/));
        });

        await t.step("backend resets during the relay: the client is closed", async () => {
          const c = await open(port);
          try {
            c.send("a1 LOGIN resettingbackend alicepass\r\n");
            assert.match(await c.readUntilLine("a1 "), /a1 OK LOGIN completed/);
            await withNeighbour(port, Promise.resolve());
            c.send("a2 SELECT INBOX\r\n");
            assert.ok(await c.waitClosed(5000), "client left open after the backend reset");
          } finally {
            c.close();
          }
          assert.ok(await waitForLog(proxy.logs, /proxied session done: (backend side|backend closed)/));
        });

        await t.step("a client that stops reading a 200 MB FETCH keeps proxy memory bounded", async () => {
          const before = rssKiB(proxy.pid);
          const streamedBefore = normal.streamed;
          // Deno.connect rather than node:net: a client that does not call read() really
          // stops reading, so only kernel socket buffers hold data outside the proxy.
          const conn = await Deno.connect({ hostname: "127.0.0.1", port });
          const buf = new Uint8Array(256 * 1024);
          let tail = "";
          let received = 0;
          const readUntil = async (marker: string, limitMs: number) => {
            const deadline = Date.now() + limitMs;
            while (!tail.includes(marker) && Date.now() < deadline) {
              // A read that never returns must fail the step, not hang the suite.
              let timer: ReturnType<typeof setTimeout> | undefined;
              const n = await Promise.race([
                conn.read(buf).catch(() => null),
                new Promise<"stalled">((r) => timer = setTimeout(() => r("stalled"), deadline - Date.now())),
              ]);
              clearTimeout(timer);
              if (n === null || n === "stalled") break;
              received += n;
              // Look for the marker before trimming: one read can hold it and 256 KiB behind it.
              const text = tail + new TextDecoder("latin1").decode(buf.subarray(0, n));
              tail = text.slice(-300);
              if (text.includes(marker)) return true;
            }
            return tail.includes(marker);
          };
          try {
            await conn.write(new TextEncoder().encode(`a1 LOGIN alice alicepass\r\na2 FETCH ${BIG}\r\n`));
            assert.ok(await readUntil("a1 OK LOGIN", 10_000), "login failed");
            // The backend keeps writing until every buffer on the way is full; then it must stall.
            let peak = 0;
            for (let i = 0; i < 16; i++) {
              await sleep(250);
              peak = Math.max(peak, rssKiB(proxy.pid));
            }
            const stalled = normal.streamed - streamedBefore;
            console.log(
              `slow reader: proxy RSS ${before} KiB -> peak ${peak} KiB, backend wrote ${stalled} bytes before stalling`,
            );
            await withNeighbour(port, Promise.resolve());
            assert.ok(stalled < 64 * 1024 * 1024, `backend wrote ${stalled} bytes to a stalled client`);
            assert.ok(peak - before < 64 * 1024, `proxy RSS grew ${peak - before} KiB`);
            // Reading again drains the whole message through the proxy.
            assert.ok(
              await readUntil("a2 OK FETCH completed", 60_000),
              `FETCH incomplete (${received} bytes)`,
            );
            assert.ok(received > BIG);
          } finally {
            conn.close();
          }
        });

        await t.step("metrics count the failures", async () => {
          const metrics = await metricsText(proxy.adminUrl);
          assert.ok(metricSum(metrics, "mailproxy_auth_errors_total") >= 5);
          assert.ok(metricSum(metrics, "mailproxy_backend_failures_total", { stage: "connect" }) >= 1);
          assert.ok(metricSum(metrics, "mailproxy_backend_failures_total", { stage: "login" }) >= 2);
          adminText = metrics + await (await fetch(`${proxy.adminUrl}/status`)).text();
        });
      } finally {
        await proxy.stop();
      }
      assert.deepEqual(findSecrets(proxy.logs() + adminText, ["alicepass"]), []);
    },
  });
}

Deno.test({
  name: "IMAP faults: stop the lab",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    if (!labPromise) return;
    const lab = await labPromise;
    await lab.auth.stop();
    await Promise.all([lab.normal.stop(), lab.silent.stop(), lab.closing.stop(), lab.resetting.stop()]);
  },
});
