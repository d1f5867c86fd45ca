/**
 * POP3 end to end: real Dovecot behind mailproxy (started as a process under Deno
 * and under Bun), driven by curl, Python poplib and raw transcripts, with logins
 * decided by the auth_http service and by built-in static users.
 */

import assert from "node:assert/strict";
import { hashPassword } from "../lib/auth/password_hash.ts";
import { freePort } from "./lab/ports.ts";
import { type AuthService, startAuthService } from "./lab/auth_service.ts";
import { type Dovecot, startDovecot } from "./lab/dovecot.ts";
import { LineClient } from "./helpers/line_client.ts";
import { type ProxyProcess, startProxy } from "./helpers/proxy_process.ts";
import { RUNTIMES } from "./helpers/runtimes.ts";

/** Output of a finished client program. */
interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a client program (curl, python3) with a 30 s limit. */
async function client(cmd: string, args: string[]): Promise<Ran> {
  const out = await new Deno.Command(cmd, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  const text = (b: Uint8Array) => new TextDecoder("latin1").decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

function curl(url: string, ...extra: string[]): Promise<Ran> {
  return client("curl", ["-sS", "--max-time", "20", url, ...extra]);
}

/** Runs Python code; `args` arrive as sys.argv[1:]. */
function poplib(code: string, ...args: string[]): Promise<Ran> {
  return client("python3", ["-c", `import poplib, sys, hashlib\n${code}`, ...args]);
}

const SMALL = "From: bob@example.com\r\nTo: alice@example.com\r\nSubject: hello alice\r\n\r\nHi there.\r\n";

/** About 1 MB of numbered lines (none starts with "."), for the byte-exact RETR. */
function bigMessage(): string {
  const body = Array.from(
    { length: 20_000 },
    (_, i) => `${i.toString(36).padStart(6, "0")} ${"pop3-".repeat(9)}`,
  );
  return ["From: bob@example.com", "To: alice@example.com", "Subject: big one", "", ...body, ""].join("\r\n");
}

async function sha256(text: string): Promise<string> {
  const bytes = Uint8Array.from(text, (c) => c.charCodeAt(0));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
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
    dovecot.addMessage("alice", SMALL);
    const big = bigMessage();
    dovecot.addMessage("alice", big);
    const auth = await startAuthService({
      backends: { pop3: { host: "127.0.0.1", port: dovecot.pop3Port } },
    });
    return { dovecot, auth, big };
  })();
  return labPromise;
}

/** Opens a raw connection and reads the greeting. */
async function open(port: number): Promise<{ c: LineClient; greeting: string }> {
  const c = await LineClient.open(port);
  return { c, greeting: await c.readUntilLine("+OK") };
}

for (const runtime of RUNTIMES) {
  Deno.test({
    name: `pop3 proxy on ${runtime}`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      const { dovecot, auth, big } = await lab();
      const httpPort = await freePort();
      const staticPort = await freePort();
      const passErrorPort = await freePort();
      const shortPort = await freePort();
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
protocol = "pop3"
pop3_auth = ["plain", "apop", "cram-md5"]

[[server]]
listen = "127.0.0.1:${staticPort}"
protocol = "pop3"
auth = "static"

[[server]]
listen = "127.0.0.1:${passErrorPort}"
protocol = "pop3"
proxy_pass_error_message = true

[[server]]
listen = "127.0.0.1:${shortPort}"
protocol = "pop3"
timeout = "1s"

[static_auth]
backend = "127.0.0.1:${dovecot.pop3Port}"

[[static_auth.user]]
name = "alice"
password = "${alice}"
`,
        [httpPort, staticPort, passErrorPort, shortPort],
      );
      try {
        // curl logs in with AUTH CRAM-MD5 where CAPA offers it (auth_http) and AUTH PLAIN otherwise.
        for (const [how, port] of [["auth_http", httpPort], ["static users", staticPort]] as const) {
          await t.step(`curl LIST via ${how}`, async () => {
            const r = await curl(`pop3://127.0.0.1:${port}/`, "--user", "alice:alicepass");
            assert.equal(r.code, 0, r.stderr);
            assert.match(r.stdout, /^1 \d+\r?\n2 \d+\r?\n$/);
          });
          await t.step(`curl RETR via ${how}`, async () => {
            const list = await curl(`pop3://127.0.0.1:${port}/`, "--user", "alice:alicepass");
            const small = list.stdout.split(/\r?\n/).map((l) => l.split(" ")).find(([, size]) =>
              Number(size) < 1000
            )!;
            const r = await curl(`pop3://127.0.0.1:${port}/${small[0]}`, "--user", "alice:alicepass");
            assert.equal(r.code, 0, r.stderr);
            assert.equal(r.stdout, SMALL);
          });
          await t.step(`curl with a wrong password is refused via ${how}`, async () => {
            const r = await curl(`pop3://127.0.0.1:${port}/`, "--user", "alice:wrong");
            assert.notEqual(r.code, 0);
            assert.match(r.stderr, /denied|67/i);
          });
        }

        await t.step("curl with APOP (salt in the greeting, Auth-Pass from auth_http)", async () => {
          const r = await curl(
            `pop3://127.0.0.1:${httpPort}/`,
            "--user",
            "alice:alicepass",
            "--login-options",
            "AUTH=+APOP",
            "-v",
          );
          assert.equal(r.code, 0, r.stderr);
          assert.match(r.stderr, /> APOP alice [0-9a-f]{32}/);
          assert.match(r.stdout, /^1 \d+\r?\n2 \d+\r?\n$/);
        });

        await t.step("poplib apop() and a 1 MB RETR relayed byte-exact", async () => {
          const r = await poplib(
            `p = poplib.POP3("127.0.0.1", int(sys.argv[1]))
assert p.getwelcome().startswith(b"+OK POP3 ready <"), p.getwelcome()
print(p.apop("alice", "alicepass").decode())
sizes = {int(n): int(s) for n, s in (l.split() for l in p.list()[1])}
big = max(sizes, key=sizes.get)
resp, lines, octets = p.retr(big)
body = b"\\r\\n".join(lines) + b"\\r\\n"
print(len(body), hashlib.sha256(body).hexdigest())
print(p.quit().decode())`,
            String(httpPort),
          );
          assert.equal(r.code, 0, r.stderr);
          const [login, digest, bye] = r.stdout.trim().split("\n");
          assert.match(login, /^\+OK/);
          assert.equal(digest, `${big.length} ${await sha256(big)}`);
          assert.match(bye, /^\+OK/);
        });

        for (const [how, port] of [["auth_http", httpPort], ["static users", staticPort]] as const) {
          await t.step(`poplib user()/pass_() via ${how}`, async () => {
            const r = await poplib(
              `p = poplib.POP3("127.0.0.1", int(sys.argv[1]))
print(p.user("alice").decode())
print(p.pass_("alicepass").decode())
print(p.stat()[0])
print(b"\\r\\n".join(p.top(1, 0)[1]).decode())
p.quit()`,
              String(port),
            );
            assert.equal(r.code, 0, r.stderr);
            const lines = r.stdout.split("\n");
            assert.equal(lines[0], "+OK");
            assert.match(lines[1], /^\+OK Logged in/);
            assert.equal(lines[2], "2");
            assert.match(r.stdout, /Subject: /);
          });
        }

        await t.step("AUTH PLAIN by hand: initial response, then a continuation", async () => {
          const { c } = await open(httpPort);
          try {
            c.send(`AUTH PLAIN ${btoa("\0alice\0alicepass")}\r\n`);
            assert.match(await c.readUntilLine("+OK"), /^\+OK Logged in/);
            c.send("STAT\r\n");
            assert.match(await c.readUntilLine("+OK"), /^\+OK 2 \d+\r\n$/);
            c.send("QUIT\r\n");
            assert.match(await c.readUntilLine("+OK"), /^\+OK/);
            assert.ok(await c.waitClosed());
          } finally {
            c.close();
          }
          const second = await open(staticPort);
          try {
            second.c.send("AUTH PLAIN\r\n");
            assert.equal(await second.c.readUntilLine("+"), "+ \r\n");
            second.c.send(`${btoa("\0alice\0alicepass")}\r\n`);
            assert.match(await second.c.readUntilLine("+OK"), /^\+OK Logged in/);
            second.c.send(`RETR 1\r\n`);
            assert.match(await second.c.readUntilLine("."), /^\+OK [^]*Subject: [^]*\r\n\.\r\n$/);
          } finally {
            second.c.close();
          }
        });

        await t.step("pipelined commands in one packet, before and after the login", async () => {
          const { c } = await open(httpPort);
          try {
            c.send("CAPA\r\nNOOP\r\nUSER alice\r\nPASS alicepass\r\nSTAT\r\nLIST\r\nQUIT\r\n");
            const text = await c.read(() => false, 1000);
            const expected = new RegExp(
              "^\\+OK Capability list follows\\r\\nTOP\\r\\nUSER\\r\\nUIDL\\r\\nSASL PLAIN LOGIN CRAM-MD5\\r\\n\\.\\r\\n" +
                "\\+OK\\r\\n\\+OK\\r\\n\\+OK Logged in\\.\\r\\n\\+OK 2 \\d+\\r\\n" +
                "\\+OK 2 messages[^\\r]*\\r\\n1 \\d+\\r\\n2 \\d+\\r\\n\\.\\r\\n\\+OK Logging out\\.\\r\\n$",
            );
            assert.match(text, expected);
            assert.ok(c.closed);
          } finally {
            c.close();
          }
        });

        await t.step(
          "a too long line gets the invalid reply and a clean close; the proxy stays sane",
          async () => {
            const { c } = await open(httpPort);
            try {
              c.send(`USER ${"x".repeat(9000)}\r\nNOOP\r\n`);
              assert.equal(await c.read(() => false, 1000), "-ERR invalid command\r\n");
              assert.ok(c.closed, "closed after the reply; NOOP was never read");
            } finally {
              c.close();
            }
            const next = await open(httpPort);
            try {
              next.c.send("NOOP\r\nUSER alice\r\nPASS alicepass\r\n");
              assert.match(await next.c.readUntilLine("+OK Logged"), /^\+OK\r\n\+OK\r\n\+OK Logged in/);
            } finally {
              next.c.close();
            }
          },
        );

        await t.step("a 4 KiB SASL token fits pop3_client_buffer (nginx: 128 bytes)", async () => {
          const token = "t".repeat(4096);
          auth.script((h) =>
            h["Auth-Pass"] === token
              ? {
                "Auth-Status": "OK",
                "Auth-Server": "127.0.0.1",
                "Auth-Port": String(dovecot.pop3Port),
                "Auth-Pass": "alicepass",
              }
              : undefined
          );
          const { c } = await open(httpPort);
          try {
            c.send(`AUTH PLAIN ${btoa(`\0alice\0${token}`)}\r\n`);
            assert.match(await c.readUntilLine("+OK"), /^\+OK Logged in/);
          } finally {
            auth.script(undefined);
            c.close();
          }
        });

        await t.step("Auth-Status WAIT is retried and then logs in", async () => {
          const before = auth.requests.length;
          const r = await poplib(
            `p = poplib.POP3("127.0.0.1", int(sys.argv[1]))
p.user("waituser")
print(p.pass_("waitpass").decode())`,
            String(httpPort),
          );
          assert.equal(r.code, 0, r.stderr);
          assert.match(r.stdout, /^\+OK Logged in/);
          const mine = auth.requests.slice(before).filter((h) => h["Auth-User"] === "waituser");
          assert.deepEqual(mine.map((h) => h["Auth-Login-Attempt"]), ["1", "1"]);
        });

        await t.step(
          "Auth-Wait: the failure is answered late, then the session takes a new login",
          async () => {
            const { c } = await open(httpPort);
            try {
              const started = Date.now();
              c.send("USER slowfail\r\nPASS x\r\nNOOP\r\n");
              // The NOOP pipelined behind the failed PASS is read once the failure was answered.
              const text = await c.read((t) => t.includes("-ERR Temporary failure\r\n+OK\r\n"), 5000);
              assert.equal(text, "+OK\r\n-ERR Temporary failure\r\n+OK\r\n");
              assert.ok(Date.now() - started >= 900, "Auth-Wait: 1 delays the reply");
              c.send(`AUTH PLAIN ${btoa("\0alice\0alicepass")}\r\n`);
              assert.match(await c.readUntilLine("+OK"), /^\+OK Logged in/);
            } finally {
              c.close();
            }
            const attempts = auth.requests.filter((h) => h["Client-IP"] === "127.0.0.1").slice(-2);
            assert.deepEqual(attempts.map((h) => h["Auth-Login-Attempt"]), ["1", "2"]);
          },
        );

        await t.step(
          "proxy_pass_error_message: the backend's -ERR after the password reaches the client",
          async () => {
            // The auth server accepts, but hands over a password the backend refuses (the CommuniGate case).
            auth.script((h) =>
              h["Auth-User"] === "alice" && h["Auth-Pass"] === "badbackend"
                ? {
                  "Auth-Status": "OK",
                  "Auth-Server": "127.0.0.1",
                  "Auth-Port": String(dovecot.pop3Port),
                  "Auth-Pass": "nope",
                }
                : undefined
            );
            try {
              for (
                const [port, reply] of [[passErrorPort, /^-ERR \[AUTH\] Authentication failed\.\r\n$/], [
                  httpPort,
                  /^-ERR internal server error\r\n$/,
                ]] as const
              ) {
                const { c } = await open(port);
                try {
                  c.send("USER alice\r\nPASS badbackend\r\n");
                  const text = await c.readUntilLine("-ERR");
                  assert.ok(text.startsWith("+OK\r\n"), text);
                  assert.match(text.slice(5), reply);
                  assert.ok(await c.waitClosed());
                } finally {
                  c.close();
                }
              }
            } finally {
              auth.script(undefined);
            }
          },
        );

        await t.step(
          "CR/LF hidden in base64 credentials never reaches the auth server or the backend",
          async () => {
            const before = auth.requests.length;
            const { c } = await open(httpPort);
            try {
              c.send(`AUTH PLAIN ${btoa("\0alice\0alicepass\r\nDELE 1")}\r\n`);
              assert.equal(await c.readUntilLine("-ERR"), "-ERR invalid command\r\n");
              c.send("NOOP\r\n");
              assert.equal(await c.readUntilLine("+OK"), "+OK\r\n");
            } finally {
              c.close();
            }
            assert.equal(auth.requests.length, before);
          },
        );

        await t.step("timeout: one deadline for the pre-auth phase, not refreshed by commands", async () => {
          const started = Date.now();
          const { c } = await open(shortPort);
          try {
            await new Promise((r) => setTimeout(r, 600));
            c.send("NOOP\r\n");
            assert.equal(await c.readUntilLine("+OK"), "+OK\r\n");
            c.send("USER ali");
            assert.ok(await c.waitClosed(3000), "closed by the deadline");
            const elapsed = Date.now() - started;
            assert.ok(elapsed >= 900 && elapsed < 2500, `closed after ${elapsed} ms`);
            assert.equal(await c.read(() => false, 50), "", "no reply on timeout");
          } finally {
            c.close();
          }
        });

        await t.step("backend down gives the internal error", async () => {
          const { c } = await open(httpPort);
          try {
            c.send("USER down\r\nPASS down\r\n");
            assert.equal(await c.readUntilLine("-ERR"), "+OK\r\n-ERR internal server error\r\n");
            assert.ok(await c.waitClosed());
          } finally {
            c.close();
          }
        });

        await t.step("auth_http requests: APOP carries the salt, CRAM-MD5 the digest", () => {
          const apop = auth.requests.find((h) => h["Auth-Method"] === "apop")!;
          assert.ok(apop, "an apop request arrived");
          assert.equal(apop["Auth-Protocol"], "pop3");
          assert.match(apop["Auth-Salt"], /^<\d+\.\d+@proxy\.test>$/);
          assert.match(apop["Auth-Pass"], /^[0-9a-f]{32}$/);
          assert.ok(auth.requests.some((h) => h["Auth-Method"] === "cram-md5"), "curl used CRAM-MD5");
        });

        await t.step("/metrics counts POP3 logins; no password reaches the logs", async () => {
          const metrics = await (await fetch(`${proxy.adminUrl}/metrics`)).text();
          const ok = metrics.match(
            /^mailproxy_logins_total\{method="apop",protocol="pop3",result="ok"\} (\d+)$/m,
          );
          assert.ok(ok && Number(ok[1]) >= 2, metrics);
          assert.match(
            metrics,
            /^mailproxy_relayed_bytes_total\{direction="downstream",protocol="pop3"\} \d{7,}$/m,
          );
          assert.ok(!proxy.logs().includes("alicepass"), proxy.logs());
          assert.match(proxy.logs(), /client logged in/);
        });
      } finally {
        auth.script(undefined);
        const code = await proxy.stop();
        assert.equal(code, 0, `exit code; logs:\n${proxy.logs()}`);
      }
    },
  });
}

Deno.test({
  name: "pop3 lab teardown",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    if (!labPromise) return;
    const { dovecot, auth } = await labPromise;
    await auth.stop();
    await dovecot.stop();
  },
});
