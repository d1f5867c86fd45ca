/**
 * Hostile ManageSieve clients against the real proxy process (Deno and Bun) on the
 * sieve port: oversized lines and literals (a literal announcing gigabytes neither
 * allocates nor hangs), NUL and 8-bit bytes, invalid base64, CR/LF/NUL smuggled into
 * SASL credentials (checked at the auth service's raw requests and at a recording
 * backend), clients leaving inside a literal or idling past `timeout`, a TLS ClientHello
 * on the plain port, the capability list that STARTTLS must re-send, and `Access
 * denied`. After each, the proxy still serves a normal login; no password reaches the
 * logs or the admin API.
 */

import assert from "node:assert/strict";
import { type AuthService, startAuthService } from "./lab/auth_service.ts";
import { freePorts } from "./lab/ports.ts";
import { startProxy } from "./helpers/proxy_process.ts";
import {
  type FakeSieveBackend,
  findSecrets,
  metricsText,
  metricSum,
  rssKiB,
  startFakeSieveBackend,
  waitForLog,
} from "./helpers/robustness.ts";
import { RUNTIMES } from "./helpers/runtimes.ts";
import { TlsTestClient } from "./helpers/tls_client.ts";

const SECRETS = ["alicepass"];
/** Every smuggling attempt carries this marker; it must reach neither the auth service nor a backend. */
const MARK = "INJECTED";

interface Lab {
  backend: FakeSieveBackend;
  auth: AuthService;
}

let labPromise: Promise<Lab> | undefined;
function lab(): Promise<Lab> {
  labPromise ??= (async () => {
    const backend = await startFakeSieveBackend({ alice: "alicepass" });
    const auth = await startAuthService({
      backends: { sieve: { host: "127.0.0.1", port: backend.port } },
      users: { alice: "alicepass" },
    });
    return { backend, auth };
  })();
  return labPromise;
}

const RESPONSE = /(^|\r\n)(OK|NO|BYE)\b[^\r\n]*\r\n$/;
const CHALLENGE = /^"[^"\r\n]*"\r\n$/;

/** Reads one complete reply (capability lines included) or challenge. */
function reply(c: TlsTestClient): Promise<string> {
  return c.read((text) => RESPONSE.test(text) || CHALLENGE.test(text), 2000);
}

async function command(c: TlsTestClient, line: string): Promise<string> {
  c.send(line);
  return await reply(c);
}

/** Connects and reads the capability greeting. */
async function open(port: number): Promise<TlsTestClient> {
  const c = await TlsTestClient.open(port);
  assert.match(await reply(c), /^"IMPLEMENTATION" "mailproxy"\r\n[^]*OK "ManageSieve ready."\r\n$/);
  return c;
}

const plain = (text: string) => btoa(text);

/** A full normal login through the proxy, a command relayed to the backend, LOGOUT. */
async function normalLogin(port: number): Promise<void> {
  const c = await open(port);
  try {
    assert.equal(
      await command(c, `AUTHENTICATE "PLAIN" "${plain("\0alice\0alicepass")}"\r\n`),
      'OK "Logged in."\r\n',
    );
    assert.equal(await command(c, "LISTSCRIPTS\r\n"), 'OK "fake: LISTSCRIPTS"\r\n');
    assert.equal(await command(c, "LOGOUT\r\n"), 'OK "Logout completed."\r\n');
  } finally {
    c.close();
  }
}

for (const runtime of RUNTIMES) {
  Deno.test({
    name: `hostile ManageSieve clients on ${runtime}`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      const { backend, auth } = await lab();
      const [port, slowPort, deniedPort] = await freePorts(3);
      const proxy = await startProxy(
        runtime,
        `
auth_http = "${auth.url}"
timeout = "30s"
sieve_client_buffer = "4k"
max_errors = 50

[[server]]
listen = "127.0.0.1:${port}"
protocol = "sieve"

[[server]]
listen = "127.0.0.1:${slowPort}"
protocol = "sieve"
timeout = "1s"

[[server]]
listen = "127.0.0.1:${deniedPort}"
protocol = "sieve"
access = [{ deny = "all" }]
`,
        [port, slowPort, deniedPort],
      );
      const baseRss = rssKiB(proxy.pid);
      let adminText = "";
      try {
        await t.step("a line far over sieve_client_buffer is refused and closed", async () => {
          const c = await open(port);
          c.send("NOOP " + "x".repeat(1 << 20));
          const text = await c.read(() => false, 1000, 10_000);
          assert.ok(c.closed, "connection left open after a 1 MB line");
          // The reply may be lost to the RST of unread data; when it arrives it is the BYE.
          assert.ok(text === "" || text === 'BYE "Command too long."\r\n', JSON.stringify(text));
          c.close();
          await normalLogin(port);
        });

        await t.step("literals announcing gigabytes neither allocate nor hang", async () => {
          for (const literal of ["{4294967296+}", "{9999999999}", "{4097+}"]) {
            const c = await open(port);
            c.send(`PUTSCRIPT "big" ${literal}\r\n`);
            assert.equal(await c.read(() => false, 300), 'BYE "Command too long."\r\n');
            assert.ok(await c.waitClosed(), "closed after the BYE");
            c.close();
          }
          assert.ok(rssKiB(proxy.pid) - baseRss < 64 * 1024, "the proxy grew by 64 MB or more");
          await normalLogin(port);
        });

        await t.step("NUL and 8-bit bytes get NO replies, the session goes on", async () => {
          const c = await open(port);
          try {
            assert.equal(await command(c, "NO\0OP\r\n"), 'NO "Error in command: bad character."\r\n');
            assert.equal(await command(c, "CAPA\xff\r\n"), 'NO "Error in command: bad character."\r\n');
            assert.equal(await command(c, '"\xff\0"\r\n'), 'NO "Error in command: bad command name."\r\n');
            assert.equal(await command(c, "NOOP\r\n"), 'OK "NOOP completed."\r\n');
          } finally {
            c.close();
          }
        });

        await t.step("invalid base64 and cancelled exchanges are refused", async () => {
          const c = await open(port);
          try {
            assert.equal(
              await command(c, 'AUTHENTICATE "PLAIN" "!!!="\r\n'),
              'NO "Invalid SASL exchange."\r\n',
            );
            assert.equal(await command(c, 'AUTHENTICATE "PLAIN"\r\n'), '""\r\n');
            assert.equal(await command(c, '"not base64 at all"\r\n'), 'NO "Invalid SASL exchange."\r\n');
            assert.equal(await command(c, 'AUTHENTICATE "LOGIN"\r\n'), '"VXNlcm5hbWU6"\r\n');
            assert.equal(await command(c, '"*"\r\n'), 'NO "Authentication cancelled."\r\n');
          } finally {
            c.close();
          }
        });

        await t.step(
          "CR/LF/NUL smuggled in credentials reaches neither the auth service nor the backend",
          async () => {
            const authBefore = auth.rawRequests.length;
            const c = await open(port);
            try {
              const bad = [
                `\0alice\r\nLISTSCRIPTS ${MARK}\0alicepass`,
                `\0alice\0alicepass\nX-${MARK}: 1`,
                `\0alice\0alice\0${MARK}`,
              ];
              for (const token of bad) {
                assert.equal(
                  await command(c, `AUTHENTICATE "PLAIN" "${plain(token)}"\r\n`),
                  'NO "Invalid SASL exchange."\r\n',
                );
              }
              assert.equal(await command(c, 'AUTHENTICATE "LOGIN"\r\n'), '"VXNlcm5hbWU6"\r\n');
              assert.equal(
                await command(c, `"${plain(`alice\r\nX-${MARK}: 1`)}"\r\n`),
                'NO "Invalid SASL exchange."\r\n',
              );
              // Quoted strings cannot hold CR/LF: the rest of the line is a new, malformed one.
              c.send(`AUTHENTICATE "PLAIN" "a\r\n${MARK} x"\r\n`);
              const text = await c.read((t) => (t.match(/\r\n/g) ?? []).length >= 2, 2000);
              assert.equal(
                text,
                'NO "Error in command: line break in a quoted string."\r\nNO "Error in command: bad character."\r\n',
              );
              // The same connection still logs in normally, and pipelined commands follow the login.
              c.send(`AUTHENTICATE "PLAIN" "${plain("\0alice\0alicepass")}"\r\nLISTSCRIPTS\r\n`);
              const done = await c.read((t) => t.includes("fake: LISTSCRIPTS"), 2000);
              assert.equal(done, 'OK "Logged in."\r\nOK "fake: LISTSCRIPTS"\r\n');
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
            assert.ok(raw.some((r) => /\r\nAuth-Protocol: sieve\r\n/.test(r)));
          },
        );

        await t.step(
          "clients leaving inside a literal or idling are closed; the proxy serves on",
          async () => {
            const leaving = await open(port);
            leaving.send('AUTHENTICATE "PLAIN" {200+}\r\nAGFsaWNl');
            leaving.close();
            const idle = await Promise.all(Array.from({ length: 12 }, () => open(slowPort)));
            idle.forEach((c, i) => {
              if (i % 3 === 0) c.send("AUTHENT");
              if (i % 3 === 1) c.send('PUTSCRIPT "s" {100+}\r\nkeep;');
            });
            try {
              const closed = await Promise.all(idle.map((c) => c.waitClosed(8000)));
              assert.ok(closed.every(Boolean), `${closed.filter((x) => !x).length} idle clients still open`);
            } finally {
              idle.forEach((c) => c.close());
            }
            assert.ok(await waitForLog(proxy.logs, /client timed out/), "no 'client timed out' log line");
            await normalLogin(port);
          },
        );

        await t.step("a TLS ClientHello on the plain port gets NO replies, no crash", async () => {
          const c = await open(port);
          const hello = "\x16\x03\x01\x00\xc8\x01\x00\x00\xc4\x03\x03" + "\x5a".repeat(32) +
            "\x00\x00\x02\x13\x01" +
            "\x01\x00\x00\x99\x00\x00\x00\x10\x00\x0e\x00\x00\x0bexample.com";
          c.send(hello + "\r\n");
          const text = await c.read(() => false, 500, 5000);
          for (const line of text.split("\r\n").slice(0, -1)) assert.match(line, /^(NO|BYE) "/);
          c.close();
          await normalLogin(port);
        });

        await t.step("access rules refuse with a ManageSieve BYE", async () => {
          const c = await TlsTestClient.open(deniedPort);
          assert.equal(await c.read(() => false, 300), 'BYE "Access denied."\r\n');
          assert.ok(await c.waitClosed());
          c.close();
        });

        await t.step("the proxy is healthy; metrics count the sieve logins", async () => {
          assert.equal((await (await fetch(`${proxy.adminUrl}/healthz`)).text()).trim(), "ok");
          const metrics = await metricsText(proxy.adminUrl);
          const status = await (await fetch(`${proxy.adminUrl}/status`)).text();
          assert.ok(metricSum(metrics, "mailproxy_logins_total", { result: "ok", protocol: "sieve" }) >= 5);
          adminText = metrics + status;
        });
      } finally {
        await proxy.stop();
      }
      assert.match(proxy.logs(), /login "alice" accepted/);
      assert.deepEqual(findSecrets(proxy.logs() + adminText, SECRETS), []);
    },
  });
}

Deno.test({
  name: "hostile ManageSieve: stop the lab",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    if (!labPromise) return;
    const { backend, auth } = await labPromise;
    await auth.stop();
    await backend.stop();
  },
});
