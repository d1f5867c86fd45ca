/**
 * Client TLS end to end (issue #7, parts 1-2): `listen … ssl` and STARTTLS under
 * `starttls = "on" | "only"`, with real clients (curl imaps:// and --ssl-reqd, Python
 * imaplib, openssl s_client) against real Dovecot, mailproxy running under Deno and
 * under Bun; STARTTLS command injection; capability lists; Auth-SSL-* headers; the
 * certificate settings (encrypted key, ssl_protocols, SNI, RSA + ECDSA) and metrics.
 */

import { run } from "./helpers/run.ts";
import assert from "node:assert/strict";
import { type AuthService, startAuthService } from "./lab/auth_service.ts";
import { removeTestPki, type TestPki, testPki } from "./lab/certs.ts";
import { type Dovecot, startDovecot } from "./lab/dovecot.ts";
import { freePort, freePorts } from "./lab/ports.ts";
import { startProxy } from "./helpers/proxy_process.ts";
import { runCommand, RUNTIMES } from "./helpers/runtimes.ts";
import { TlsTestClient } from "./helpers/tls_client.ts";

interface Lab {
  dovecot: Dovecot;
  auth: AuthService;
  pki: TestPki;
}

let labPromise: Promise<Lab> | undefined;
function lab(): Promise<Lab> {
  labPromise ??= (async () => {
    const pki = await testPki();
    const dovecot = await startDovecot();
    dovecot.addMessage("alice", "From: bob@example.com\r\nSubject: over tls\r\n\r\nHello.\r\n");
    const auth = await startAuthService({
      backends: { imap: { host: "127.0.0.1", port: dovecot.imapPort } },
    });
    return { dovecot, auth, pki };
  })();
  return labPromise;
}

const CAPS = "* CAPABILITY IMAP4 IMAP4rev1 UIDPLUS AUTH=PLAIN AUTH=LOGIN";

for (const runtime of RUNTIMES) {
  Deno.test({
    name: `imap over TLS on ${runtime}`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      const { auth, pki } = await lab();
      const [implicit, starttlsOn, starttlsOnly, strict, slow] = await freePorts(5);
      const proxy = await startProxy(
        runtime,
        `
server_name = "mail.test"
auth_http = "${auth.url}"
timeout = "10s"
imap_auth = ["plain", "login"]
ssl_certificate = "${pki.serverRsa.cert}"
ssl_certificate_key = "${pki.serverRsa.key}"

[[server]]
listen = "127.0.0.1:${implicit} ssl"
protocol = "imap"

[[server]]
listen = "127.0.0.1:${starttlsOn}"
protocol = "imap"
starttls = "on"

[[server]]
listen = "127.0.0.1:${starttlsOnly}"
protocol = "imap"
starttls = "only"

# Encrypted key, TLS 1.3 only, a second name by SNI.
[[server]]
listen = "127.0.0.1:${strict} ssl"
protocol = "imap"
ssl_certificate = "${pki.encrypted.cert}"
ssl_certificate_key = "${pki.encrypted.key}"
ssl_password_file = "${pki.encrypted.passwordFile}"
ssl_protocols = ["TLSv1.3"]

[[server.ssl_sni]]
name = "other.test"
ssl_certificate = "${pki.other.cert}"
ssl_certificate_key = "${pki.other.key}"

[[server]]
listen = "127.0.0.1:${slow} ssl"
protocol = "imap"
timeout = "1s"
`,
        [implicit, starttlsOn, starttlsOnly, strict, slow],
      );
      const tlsOpts = { ca: pki.ca };
      try {
        await t.step("curl imaps:// lists the INBOX", async () => {
          const r = await run("curl", [
            "-sS",
            "--max-time",
            "20",
            "--cacert",
            pki.ca,
            `imaps://127.0.0.1:${implicit}/INBOX?ALL`,
            "--user",
            "alice:alicepass",
          ]);
          assert.equal(r.code, 0, r.stderr);
          assert.match(r.stdout, /\* SEARCH 1/);
        });

        for (const [mode, port] of [["on", starttlsOn], ["only", starttlsOnly]] as const) {
          await t.step(`curl --ssl-reqd uses STARTTLS (starttls ${mode})`, async () => {
            const r = await run("curl", [
              "-sS",
              "--max-time",
              "20",
              "--ssl-reqd",
              "--cacert",
              pki.ca,
              `imap://127.0.0.1:${port}/INBOX;UID=1`,
              "--user",
              "alice:alicepass",
            ]);
            assert.equal(r.code, 0, r.stderr);
            assert.match(r.stdout, /Subject: over tls/);
          });
        }

        await t.step("Python imaplib: IMAP4_SSL and IMAP4.starttls()", async () => {
          const code = `
import imaplib, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[1])
m = imaplib.IMAP4_SSL("127.0.0.1", int(sys.argv[2]), ssl_context=ctx)
m.login("alice", "alicepass"); print("ssl", m.select("INBOX")[0]); m.logout()
for port in sys.argv[3:]:
    m = imaplib.IMAP4("127.0.0.1", int(port))
    before = m.capabilities
    m.starttls(ssl_context=ctx)
    m.login("alice", "alicepass"); print("starttls", port, "STARTTLS" in before, m.select("INBOX")[0]); m.logout()
`;
          const r = await run("python3", [
            "-c",
            code,
            pki.ca,
            String(implicit),
            String(starttlsOn),
            String(starttlsOnly),
          ]);
          assert.equal(r.code, 0, r.stderr);
          assert.match(r.stdout, /^ssl OK$/m);
          assert.match(r.stdout, new RegExp(`^starttls ${starttlsOn} True OK$`, "m"));
          assert.match(r.stdout, new RegExp(`^starttls ${starttlsOnly} True OK$`, "m"));
        });

        await t.step("openssl s_client -starttls imap: capabilities after TLS have no STARTTLS", async () => {
          const r = await run(
            "openssl",
            [
              "s_client",
              "-quiet",
              "-starttls",
              "imap",
              "-connect",
              `127.0.0.1:${starttlsOnly}`,
              "-CAfile",
              pki.ca,
            ],
            "c1 CAPABILITY\r\nc2 LOGOUT\r\n",
          );
          assert.match(r.stdout, /^\* CAPABILITY IMAP4 IMAP4rev1 UIDPLUS AUTH=PLAIN AUTH=LOGIN\r$/m);
          assert.match(r.stdout, /^c1 OK completed/m);
          assert.match(r.stderr, /verify return:1/);
        });

        await t.step("capability lists under starttls off / on / only, before and after TLS", async () => {
          const caps = async (port: number, ssl: boolean) => {
            const c = ssl ? await TlsTestClient.openTls(port, tlsOpts) : await TlsTestClient.open(port);
            try {
              await c.readUntilLine("* OK");
              c.send("k1 CAPABILITY\r\n");
              const before = (await c.readUntilLine("k1 ")).split("\r\n")[0];
              if (ssl) return [before];
              c.send("k2 STARTTLS\r\n");
              assert.equal(await c.readUntilLine("k2 "), "k2 OK completed\r\n");
              await c.startTls(tlsOpts);
              c.send("k3 CAPABILITY\r\n");
              return [before, (await c.readUntilLine("k3 ")).split("\r\n")[0]];
            } finally {
              c.close();
            }
          };
          assert.deepEqual(await caps(implicit, true), [CAPS]);
          assert.deepEqual(await caps(starttlsOn, false), [`${CAPS} STARTTLS`, CAPS]);
          assert.deepEqual(await caps(starttlsOnly, false), [
            "* CAPABILITY IMAP4 IMAP4rev1 UIDPLUS STARTTLS LOGINDISABLED",
            CAPS,
          ]);
        });

        await t.step(
          "starttls only refuses LOGIN and AUTHENTICATE before TLS, allows them after",
          async () => {
            const c = await TlsTestClient.open(starttlsOnly);
            try {
              await c.readUntilLine("* OK");
              c.send("a1 LOGIN alice alicepass\r\n");
              assert.equal(await c.readUntilLine("a1 "), "a1 BAD invalid command\r\n");
              c.send(`a2 AUTHENTICATE PLAIN ${btoa("\0alice\0alicepass")}\r\n`);
              assert.equal(await c.readUntilLine("a2 "), "a2 BAD invalid command\r\n");
              c.send("a3 STARTTLS\r\n");
              await c.readUntilLine("a3 ");
              await c.startTls(tlsOpts);
              c.send("a4 LOGIN alice alicepass\r\n");
              assert.match(await c.readUntilLine("a4 "), /^a4 OK/m);
            } finally {
              c.close();
            }
          },
        );

        await t.step("STARTTLS injection: commands pipelined in the same packet are dropped", async () => {
          const before = auth.requests.length;
          const c = await TlsTestClient.open(starttlsOn);
          try {
            await c.readUntilLine("* OK");
            // One write, one packet: STARTTLS with a LOGIN and a NOOP smuggled behind it.
            c.send("s1 STARTTLS\r\ns2 LOGIN alice alicepass\r\ns3 NOOP\r\n");
            assert.equal(await c.readUntilLine("s1 "), "s1 OK completed\r\n");
            await c.startTls(tlsOpts);
            c.send("s4 CAPABILITY\r\n");
            const after = await c.readUntilLine("s4 ");
            assert.equal(after, `${CAPS}\r\ns4 OK completed\r\n`, "no reply to s2/s3 ever arrives");
            c.send("s5 NOOP\r\n");
            assert.equal(await c.readUntilLine("s5 "), "s5 OK completed\r\n");
            assert.equal(auth.requests.length, before, "the smuggled LOGIN never reached the auth service");
          } finally {
            c.close();
          }
        });

        await t.step(
          "STARTTLS followed by cleartext instead of a handshake: closed, nothing executed",
          async () => {
            const before = auth.requests.length;
            const c = await TlsTestClient.open(starttlsOn);
            try {
              await c.readUntilLine("* OK");
              c.send("x1 STARTTLS\r\n");
              await c.readUntilLine("x1 ");
              c.send("x2 LOGIN alice alicepass\r\n");
              assert.equal(await c.waitClosed(5000), true);
              assert.equal(auth.requests.length, before);
            } finally {
              c.close();
            }
          },
        );

        await t.step("STARTTLS is refused on TLS connections and when already upgraded", async () => {
          const c = await TlsTestClient.openTls(implicit, tlsOpts);
          try {
            await c.readUntilLine("* OK");
            c.send("y1 STARTTLS\r\n");
            assert.equal(await c.readUntilLine("y1 "), "y1 BAD invalid command\r\n");
          } finally {
            c.close();
          }
        });

        await t.step("the auth service gets Auth-SSL, Auth-SSL-Protocol and Auth-SSL-Cipher", async () => {
          for (const port of [implicit, starttlsOn]) {
            const c = port === implicit
              ? await TlsTestClient.openTls(port, tlsOpts)
              : await TlsTestClient.open(port);
            try {
              await c.readUntilLine("* OK");
              if (port !== implicit) {
                c.send("t0 STARTTLS\r\n");
                await c.readUntilLine("t0 ");
                await c.startTls(tlsOpts);
              }
              const before = auth.requests.length;
              c.send("t1 LOGIN alice alicepass\r\n");
              assert.match(await c.readUntilLine("t1 "), /^t1 OK/m);
              const h = auth.requests[before];
              assert.equal(h["Auth-SSL"], "on");
              assert.equal(h["Auth-SSL-Protocol"], c.tls.getProtocol());
              assert.equal(h["Auth-SSL-Cipher"], c.tls.getCipher().name);
              assert.equal(h["Auth-SSL-Verify"], undefined, "no verify header with ssl_verify_client off");
            } finally {
              c.close();
            }
          }
          // Plain sessions carry no Auth-SSL at all.
          const c = await TlsTestClient.open(starttlsOn);
          try {
            await c.readUntilLine("* OK");
            const before = auth.requests.length;
            c.send("p1 LOGIN alice alicepass\r\n");
            await c.readUntilLine("p1 ");
            assert.equal(auth.requests[before]["Auth-SSL"], undefined);
          } finally {
            c.close();
          }
        });

        await t.step(
          "encrypted key (ssl_password_file), TLS 1.3 only, SNI picks the other certificate",
          async () => {
            const c = await TlsTestClient.openTls(strict, tlsOpts);
            assert.equal(c.tls.getProtocol(), "TLSv1.3");
            assert.equal(c.tls.getPeerCertificate().subject.CN, "localhost");
            c.close();
            const other = await TlsTestClient.openTls(strict, { ...tlsOpts, servername: "other.test" });
            assert.equal(other.tls.getPeerCertificate().subject.CN, "other.test");
            other.close();
            await assert.rejects(TlsTestClient.openTls(strict, { ...tlsOpts, maxVersion: "TLSv1.2" }));
          },
        );

        await t.step(
          "ALPN: a client offering only another protocol is refused, imap is accepted",
          async () => {
            await assert.rejects(TlsTestClient.openTls(implicit, { ...tlsOpts, ALPNProtocols: ["pop3"] }));
            const c = await TlsTestClient.openTls(implicit, { ...tlsOpts, ALPNProtocols: ["imap"] });
            assert.equal(c.tls.alpnProtocol, "imap");
            c.close();
          },
        );

        await t.step(
          "a silent client is closed after timeout; garbage instead of a ClientHello too",
          async () => {
            const silent = await TlsTestClient.open(slow);
            assert.equal(await silent.waitClosed(4000), true, "closed by the 1s timeout");
            silent.close();
            const garbage = await TlsTestClient.open(implicit);
            garbage.send("a1 LOGIN alice alicepass\r\n");
            assert.equal(await garbage.waitClosed(4000), true);
            garbage.close();
          },
        );

        await t.step("metrics count handshakes and failures", async () => {
          const text = await (await fetch(`${proxy.adminUrl}/metrics`)).text();
          const value = (name: string, server: number) =>
            Number(
              new RegExp(`^${name}\\{[^}]*server="${server}"[^}]*\\} (\\d+)`, "m").exec(text)?.[1] ?? "0",
            );
          assert.ok(value("mailproxy_tls_handshakes_total", 0) >= 4, text);
          assert.ok(value("mailproxy_tls_handshake_failures_total", 0) >= 2, text);
          assert.ok(value("mailproxy_tls_handshakes_total", 1) >= 3);
        });

        await t.step("no key material in the logs", () => {
          const logs = proxy.logs();
          assert.doesNotMatch(logs, /PRIVATE KEY|secret pass phrase/);
        });
      } finally {
        await proxy.stop();
      }
    },
  });
}

Deno.test({
  name: "RSA + ECDSA certificates: served by Bun, refused with a clear error on Deno",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const { auth, pki } = await lab();
    const port = await freePort();
    const toml = `
auth_http = "${auth.url}"
ssl_certificate = ["${pki.serverRsa.cert}", "${pki.serverEc.cert}"]
ssl_certificate_key = ["${pki.serverRsa.key}", "${pki.serverEc.key}"]
[[server]]
listen = "127.0.0.1:${port} ssl"
protocol = "imap"
`;
    await t.step("Deno: --check names the key and the reason", async () => {
      const dir = await Deno.makeTempDir();
      await Deno.writeTextFile(`${dir}/proxy.toml`, toml);
      const [cmd, ...args] = runCommand("deno");
      const r = await run(cmd, [
        ...args,
        new URL("../main.ts", import.meta.url).pathname,
        "--check",
        "--config",
        `${dir}/proxy.toml`,
      ]);
      await Deno.remove(dir, { recursive: true });
      assert.equal(r.code, 1);
      assert.match(r.stderr + r.stdout, /several ssl_certificate pairs \(e\.g\. RSA \+ ECDSA\): Deno's TLS/);
    });
    await t.step("Bun: ECDSA-only and RSA-only clients each get their certificate", async () => {
      const proxy = await startProxy("bun", toml, [port]);
      try {
        const sigType = async (sigalgs: string) => {
          const r = await run("openssl", [
            "s_client",
            "-connect",
            `127.0.0.1:${port}`,
            "-CAfile",
            pki.ca,
            "-sigalgs",
            sigalgs,
            "-tls1_3",
          ], "");
          return /Peer signature type: (\S+)/.exec(r.stdout)?.[1];
        };
        assert.equal(await sigType("ECDSA+SHA256"), "ECDSA");
        assert.equal(await sigType("RSA-PSS+SHA256"), "RSA-PSS");
      } finally {
        await proxy.stop();
      }
    });
  },
});

for (const runtime of RUNTIMES) {
  Deno.test({
    name: `a reload re-reads certificate files (new sessions get the new certificate) on ${runtime}`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const { auth, pki } = await lab();
      const dir = await Deno.makeTempDir({ prefix: "mailproxy-renew-" });
      const cert = `${dir}/cert.pem`;
      const key = `${dir}/key.pem`;
      await Deno.copyFile(pki.serverRsa.cert, cert);
      await Deno.copyFile(pki.serverRsa.key, key);
      const port = await freePort();
      const proxy = await startProxy(
        runtime,
        `auth_http = "${auth.url}"
ssl_certificate = "${cert}"
ssl_certificate_key = "${key}"
[[server]]
listen = "127.0.0.1:${port} ssl"
protocol = "imap"
`,
        [port],
      );
      const cn = async (servername: string) => {
        const c = await TlsTestClient.openTls(port, { ca: pki.ca, servername });
        const name = c.tls.getPeerCertificate().subject.CN;
        c.close();
        return name;
      };
      try {
        const kept = await TlsTestClient.openTls(port, { ca: pki.ca });
        await kept.readUntilLine("* OK");
        assert.equal(await cn("localhost"), "localhost");
        await Deno.copyFile(pki.other.cert, cert);
        await Deno.copyFile(pki.other.key, key);
        const r = await fetch(`${proxy.adminUrl}/reload`, { method: "POST" });
        assert.equal(r.status, 200, await r.text());
        assert.equal(await cn("other.test"), "other.test");
        kept.send("k1 NOOP\r\n");
        assert.equal(await kept.readUntilLine("k1 "), "k1 OK completed\r\n", "running sessions go on");
        kept.close();
        // A broken file refuses the reload and keeps the running certificates.
        await Deno.writeTextFile(key, "not a key");
        const bad = await fetch(`${proxy.adminUrl}/reload`, { method: "POST" });
        const body = await bad.text();
        assert.notEqual(bad.status, 200);
        assert.match(body, /no PEM private key/);
        assert.equal(await cn("other.test"), "other.test");
      } finally {
        await proxy.stop();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

Deno.test({
  name: "tls lab teardown",
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
