/**
 * ManageSieve (RFC 5804, issue #14) through mailproxy onto a real Dovecot managesieved
 * (Pigeonhole): the real `sieve-connect` client over STARTTLS uploads, lists,
 * activates, downloads and deletes a script, and the result is read back from
 * Dovecot's sieve directory on disk; the same by raw exchanges over implicit TLS, with
 * static users (a `sieve` backend) and STARTTLS towards the backend; wrong passwords,
 * unknown commands, oversized literals and a client leaving inside a literal get clear
 * answers and leave the proxy healthy. Proxy under Deno and Bun.
 */

import assert from "node:assert/strict";
import { hashPassword } from "../lib/auth/password_hash.ts";
import { run } from "./helpers/run.ts";
import { startProxy } from "./helpers/proxy_process.ts";
import { RUNTIMES } from "./helpers/runtimes.ts";
import { TlsTestClient, waitForLog } from "./helpers/tls_client.ts";
import { type AuthService, startAuthService } from "./lab/auth_service.ts";
import { removeTestPki, type TestPki, testPki } from "./lab/certs.ts";
import { type Dovecot, startDovecot } from "./lab/dovecot.ts";
import { freePorts } from "./lab/ports.ts";

interface Lab {
  dovecot: Dovecot;
  auth: AuthService;
  pki: TestPki;
  aliceHash: string;
}

let labPromise: Promise<Lab> | undefined;
function lab(): Promise<Lab> {
  labPromise ??= (async () => {
    const pki = await testPki();
    const dovecot = await startDovecot({ sieve: true, tls: pki.serverRsa });
    const auth = await startAuthService({
      backends: { sieve: { host: "127.0.0.1", port: dovecot.sievePort! } },
    });
    return { dovecot, auth, pki, aliceHash: await hashPassword("alicepass") };
  })();
  return labPromise;
}

/** A ManageSieve reply is complete once its OK/NO/BYE line has come. */
const RESPONSE = /(^|\r\n)(OK|NO|BYE)\b[^\r\n]*\r\n$/;
const CAPABILITIES = /^"IMPLEMENTATION" "mailproxy"\r\n"SASL" "PLAIN LOGIN"\r\n"SIEVE" "fileinto [^"]*"\r\n/;

function plainToken(user: string, pass: string): string {
  return btoa(`\0${user}\0${pass}`);
}

/** A SASL challenge: one quoted string on a line. */
const CHALLENGE = /^"[^"\r\n]*"\r\n$/;

/** Reads one complete reply (capability lines included) or challenge. */
function reply(c: TlsTestClient): Promise<string> {
  return c.read((text) => RESPONSE.test(text) || CHALLENGE.test(text), 2000);
}

/** Sends one command and reads its reply. */
async function command(c: TlsTestClient, line: string): Promise<string> {
  c.send(line);
  return await reply(c);
}

const SCRIPT =
  'require ["fileinto"];\r\nif header :contains "subject" "sieve" {\r\n  fileinto "INBOX";\r\n}\r\n';

function readText(path: string): string | null {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return null;
  }
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

for (const runtime of RUNTIMES) {
  Deno.test({
    name: `sieve (ManageSieve) proxy on ${runtime}`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      const { dovecot, auth, pki, aliceHash } = await lab();
      const [starttlsPort, implicitPort, staticPort, limitsPort] = await freePorts(4);
      const proxy = await startProxy(
        runtime,
        `
server_name = "mail.test"
timeout = "10s"
resolver = false
ssl_certificate = "${pki.serverEc.cert}"
ssl_certificate_key = "${pki.serverEc.key}"
backend_tls_ca = "${pki.ca}"

[[server]]
listen = "127.0.0.1:${starttlsPort}"
protocol = "sieve"
auth_http = "${auth.url}"
starttls = "on"

[[server]]
listen = "127.0.0.1:${implicitPort} ssl"
protocol = "sieve"
auth_http = "${auth.url}"

[[server]]
listen = "127.0.0.1:${staticPort}"
protocol = "sieve"
auth = "static"
backend_tls = "starttls"

[[server]]
listen = "127.0.0.1:${limitsPort}"
protocol = "sieve"
auth_http = "${auth.url}"
sieve_client_buffer = "1k"
max_errors = 3

[static_auth]
backend = { sieve = "127.0.0.1:${dovecot.sievePort}" }

[[static_auth.user]]
name = "alice"
password = "${aliceHash}"
`,
        [starttlsPort, implicitPort, staticPort, limitsPort],
      );
      const tmp = await Deno.makeTempDir({ prefix: "mailproxy-sieve-" });
      try {
        await t.step("sieve-connect over STARTTLS: upload, list, activate, download, delete", async () => {
          const name = `sc_${runtime}`;
          const local = `${tmp}/${name}.sieve`;
          const back = `${tmp}/${name}.back`;
          await Deno.writeTextFile(local, SCRIPT);
          const sieveConnect = (...action: string[]) =>
            run("sieve-connect", [
              "--nosrv",
              "--server",
              "127.0.0.1",
              "--port",
              String(starttlsPort),
              "--user",
              "alice",
              "--passwordfd",
              "0",
              "--tlscafile",
              pki.ca,
              "--tlshostname",
              "localhost",
              "--noclearauth",
              ...action,
            ], "alicepass\n");
          const up = await sieveConnect("--upload", "--localsieve", local, "--remotesieve", name);
          assert.equal(up.code, 0, up.stdout + up.stderr);
          assert.equal(readText(`${dovecot.sieveDir("alice")}/${name}.sieve`), SCRIPT, "Dovecot stored it");

          const act = await sieveConnect("--activate", "--remotesieve", name);
          assert.equal(act.code, 0, act.stdout + act.stderr);
          assert.match(Deno.readLinkSync(dovecot.sieveActiveLink("alice")), new RegExp(`${name}\\.sieve$`));

          const list = await sieveConnect("--list");
          assert.equal(list.code, 0, list.stdout + list.stderr);
          assert.match(list.stdout, new RegExp(`^"${name}" ACTIVE$`, "m"));

          const down = await sieveConnect("--download", "--remotesieve", name, "--localsieve", back);
          assert.equal(down.code, 0, down.stdout + down.stderr);
          assert.equal(await Deno.readTextFile(back), SCRIPT);

          const deact = await sieveConnect("--deactivate");
          assert.equal(deact.code, 0, deact.stdout + deact.stderr);
          const del = await sieveConnect("--delete", "--remotesieve", name);
          assert.equal(del.code, 0, del.stdout + del.stderr);
          assert.equal(exists(`${dovecot.sieveDir("alice")}/${name}.sieve`), false, "Dovecot removed it");
        });

        await t.step("sieve-connect with a wrong password fails cleanly", async () => {
          const r = await run("sieve-connect", [
            "--nosrv",
            "--server",
            "127.0.0.1",
            "--port",
            String(starttlsPort),
            "--user",
            "alice",
            "--passwordfd",
            "0",
            "--tlscafile",
            pki.ca,
            "--tlshostname",
            "localhost",
            "--list",
          ], "wrong\n");
          // The refusal (NO "Invalid login or password", checked byte for byte below) ends the
          // session without Auth-Wait, as nginx does: sieve-connect reports the dropped line.
          assert.notEqual(r.code, 0);
          assert.doesNotMatch(r.stdout + r.stderr, /violates MANAGESIEVE/);
          await waitForLog(proxy.logs, /client login failed: "Invalid login or password", login "alice"/);
        });

        await t.step(
          "STARTTLS by hand: capabilities again after the handshake, injection dropped",
          async () => {
            const c = await TlsTestClient.open(starttlsPort);
            try {
              const greeting = await reply(c);
              assert.match(greeting, CAPABILITIES);
              assert.match(greeting, /"STARTTLS"\r\n"VERSION" "1.0"\r\nOK "ManageSieve ready."\r\n$/);
              c.send(`STARTTLS\r\nAUTHENTICATE "PLAIN" "${plainToken("alice", "alicepass")}"\r\n`);
              assert.equal(await reply(c), 'OK "Begin TLS negotiation now."\r\n');
              await c.startTls({ ca: pki.ca });
              const after = await reply(c);
              assert.match(after, CAPABILITIES);
              assert.doesNotMatch(after, /STARTTLS/);
              assert.match(
                after,
                /OK "TLS negotiation successful."\r\n$/,
                "nothing answered the smuggled AUTHENTICATE",
              );
              assert.equal(await command(c, "STARTTLS\r\n"), 'NO "STARTTLS is not available."\r\n');
              assert.equal(await command(c, "LOGOUT\r\n"), 'OK "Logout completed."\r\n');
            } finally {
              c.close();
            }
          },
        );

        for (
          const [what, port, tls] of [
            ["implicit TLS with auth_http", implicitPort, true],
            ["static users and STARTTLS to the backend", staticPort, false],
          ] as const
        ) {
          await t.step(`raw exchange over ${what}: put, list, activate, get, delete`, async () => {
            const name = `raw_${runtime}_${port}`;
            const c = tls
              ? await TlsTestClient.openTls(port, { ca: pki.ca })
              : await TlsTestClient.open(port);
            try {
              assert.match(await reply(c), CAPABILITIES);
              // LOGIN with continuations: quoted challenges, a literal as one response.
              assert.equal(await command(c, 'AUTHENTICATE "LOGIN"\r\n'), '"VXNlcm5hbWU6"\r\n');
              assert.equal(await command(c, `{8+}\r\n${btoa("alice")}\r\n`), '"UGFzc3dvcmQ6"\r\n');
              assert.match(await command(c, `"${btoa("alicepass")}"\r\n`), /^OK/);
              const body = "keep;\r\n";
              assert.match(await command(c, `PUTSCRIPT "${name}" {${body.length}+}\r\n${body}\r\n`), /^OK/);
              assert.equal(readText(`${dovecot.sieveDir("alice")}/${name}.sieve`), body);
              assert.match(await command(c, `SETACTIVE "${name}"\r\n`), /^OK/);
              assert.match(await command(c, "LISTSCRIPTS\r\n"), new RegExp(`^"${name}" ACTIVE\\r\\n`, "m"));
              assert.match(
                await command(c, `GETSCRIPT "${name}"\r\n`),
                new RegExp(`^\\{${body.length}\\}\r\n${body}`),
              );
              assert.match(await command(c, 'SETACTIVE ""\r\n'), /^OK/);
              assert.match(await command(c, `DELETESCRIPT "${name}"\r\n`), /^OK/);
              assert.equal(exists(`${dovecot.sieveDir("alice")}/${name}.sieve`), false);
              assert.match(await command(c, "LOGOUT\r\n"), /^OK/);
            } finally {
              c.close();
            }
          });
        }

        await t.step("wrong password, unknown command, commands before login, max_errors", async () => {
          const c = await TlsTestClient.open(limitsPort);
          try {
            await reply(c);
            // Without Auth-Wait the auth service's refusal ends the session (nginx's rule).
            c.send(`AUTHENTICATE "PLAIN" "${plainToken("alice", "wrong")}"\r\n`);
            assert.equal(await c.read(() => false, 300), 'NO "Invalid login or password"\r\n');
            assert.equal(c.closed, true);
          } finally {
            c.close();
          }
          const d = await TlsTestClient.open(limitsPort);
          try {
            await reply(d);
            assert.equal(await command(d, "LISTSCRIPTS\r\n"), 'NO "Authenticate first."\r\n');
            assert.equal(
              await command(d, 'AUTHENTICATE "DIGEST-MD5"\r\n'),
              'NO "Unsupported authentication mechanism."\r\n',
            );
            assert.equal(await command(d, 'AUTHENTICATE "PLAIN"\r\n'), '""\r\n');
            assert.equal(await command(d, '"*"\r\n'), 'NO "Authentication cancelled."\r\n');
            assert.equal(await command(d, 'NOOP "t1"\r\n'), 'OK (TAG "t1") "Done."\r\n');
            assert.equal(await command(d, "FROB\r\n"), 'NO "Unknown command."\r\n');
            assert.match(await command(d, 'NOOP "unterminated\r\n'), /^NO "Error in command: /);
            d.send("XYZZY\r\n");
            assert.equal(
              await d.read(() => false, 300),
              'NO "Unknown command."\r\nBYE "Too many invalid commands."\r\n',
            );
            assert.equal(d.closed, true);
          } finally {
            d.close();
          }
        });

        await t.step("an oversized literal gets BYE before its octets are sent", async () => {
          const c = await TlsTestClient.open(limitsPort);
          try {
            await reply(c);
            c.send('AUTHENTICATE "PLAIN" {100000+}\r\n');
            assert.equal(await c.read(() => false, 300), 'BYE "Command too long."\r\n');
            assert.equal(c.closed, true);
          } finally {
            c.close();
          }
        });

        await t.step("a client leaving inside a literal, then the proxy still serves", async () => {
          const closedLines = () => proxy.logs().split("client closed connection").length;
          const closedBefore = closedLines();
          const authBefore = auth.requests.length;
          const c = await TlsTestClient.open(limitsPort);
          await reply(c);
          c.send('AUTHENTICATE "PLAIN" {200+}\r\nAGFsaWNl');
          await new Promise((r) => setTimeout(r, 100));
          c.close();
          const d = await TlsTestClient.open(limitsPort);
          try {
            await reply(d);
            const token = plainToken("alice", "alicepass");
            assert.match(await command(d, `AUTHENTICATE "PLAIN" {${token.length}+}\r\n${token}\r\n`), /^OK/);
            assert.match(await command(d, "LISTSCRIPTS\r\n"), /^OK/m);
          } finally {
            d.close();
          }
          assert.equal(
            auth.requests.length,
            authBefore + 1,
            "the half literal never reached the auth service",
          );
          await waitForLog(proxy.logs, /client closed connection/);
          for (let i = 0; i < 50 && closedLines() === closedBefore; i++) {
            await new Promise((r) => setTimeout(r, 100));
          }
          assert.ok(closedLines() > closedBefore, "the proxy logged the client that left");
        });

        await t.step("auth_http saw Auth-Protocol: sieve", () => {
          assert.ok(auth.requests.some((h) => h["Auth-Protocol"] === "sieve"));
        });
      } finally {
        await proxy.stop();
        await Deno.remove(tmp, { recursive: true }).catch(() => {});
      }
    },
  });
}

Deno.test({
  name: "sieve lab teardown",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    if (!labPromise) return await removeTestPki();
    const { dovecot, auth } = await labPromise;
    await auth.stop();
    await dovecot.stop();
    await removeTestPki();
  },
});
