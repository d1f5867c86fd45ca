/**
 * The same TLS driver under POP3 and SMTP: implicit TLS (POP3S, SMTPS), POP3 STLS and
 * SMTP STARTTLS with `starttls = "only"` (capability lists, refused commands before
 * TLS, pipelined-command injection), real clients (curl pop3s:// and --ssl-reqd,
 * Python smtplib) against Dovecot and Postfix, proxy under Deno and Bun.
 */

import { run } from "./helpers/run.ts";
import assert from "node:assert/strict";
import { type AuthService, startAuthService } from "./lab/auth_service.ts";
import { removeTestPki, type TestPki, testPki } from "./lab/certs.ts";
import { type Dovecot, startDovecot } from "./lab/dovecot.ts";
import { type Postfix, startPostfix } from "./lab/postfix.ts";
import { freePorts } from "./lab/ports.ts";
import { startProxy } from "./helpers/proxy_process.ts";
import { RUNTIMES } from "./helpers/runtimes.ts";
import { TlsTestClient } from "./helpers/tls_client.ts";

interface Lab {
  dovecot: Dovecot;
  postfix: Postfix;
  auth: AuthService;
  pki: TestPki;
}

let labPromise: Promise<Lab> | undefined;
function lab(): Promise<Lab> {
  labPromise ??= (async () => {
    const pki = await testPki();
    const dovecot = await startDovecot();
    dovecot.addMessage("alice", "From: bob@example.com\r\nSubject: pop over tls\r\n\r\nHi.\r\n");
    const postfix = await startPostfix({ lmtpPort: dovecot.lmtpPort, domain: "mail.test" });
    const auth = await startAuthService({
      backends: {
        pop3: { host: "127.0.0.1", port: dovecot.pop3Port },
        smtp: { host: "127.0.0.1", port: postfix.smtpPort },
      },
    });
    return { dovecot, postfix, auth, pki };
  })();
  return labPromise;
}

const POP3_ONLY_CAPA = "+OK Capability list follows\r\nTOP\r\nUIDL\r\nSTLS\r\n.\r\n";
const POP3_TLS_CAPA = "+OK Capability list follows\r\nTOP\r\nUSER\r\nUIDL\r\nSASL PLAIN LOGIN\r\n.\r\n";

for (const runtime of RUNTIMES) {
  Deno.test({
    name: `pop3 and smtp over TLS on ${runtime}`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      const { postfix, auth, pki } = await lab();
      const [pop3s, pop3Stls, smtps, submission] = await freePorts(4);
      const proxy = await startProxy(
        runtime,
        `
server_name = "mail.test"
auth_http = "${auth.url}"
timeout = "10s"
resolver = false
ssl_certificate = "${pki.serverEc.cert}"
ssl_certificate_key = "${pki.serverEc.key}"

[[server]]
listen = "127.0.0.1:${pop3s} ssl"
protocol = "pop3"

[[server]]
listen = "127.0.0.1:${pop3Stls}"
protocol = "pop3"
starttls = "only"

[[server]]
listen = "127.0.0.1:${smtps} ssl"
protocol = "smtp"

[[server]]
listen = "127.0.0.1:${submission}"
protocol = "smtp"
starttls = "only"
`,
        [pop3s, pop3Stls, smtps, submission],
      );
      const tlsOpts = { ca: pki.ca };
      try {
        await t.step("curl pop3s:// and pop3:// --ssl-reqd (STLS) list alice's mailbox", async () => {
          for (const url of [`pop3s://127.0.0.1:${pop3s}/`, `pop3://127.0.0.1:${pop3Stls}/`]) {
            const r = await run("curl", [
              "-sS",
              "--max-time",
              "20",
              "--ssl-reqd",
              "--cacert",
              pki.ca,
              url,
              "--user",
              "alice:alicepass",
            ]);
            assert.equal(r.code, 0, r.stderr);
            assert.match(r.stdout, /^1 \d+/m);
          }
        });

        await t.step(
          "POP3 starttls only: CAPA, USER refused, STLS injection dropped, CAPA after TLS",
          async () => {
            const c = await TlsTestClient.open(pop3Stls);
            try {
              await c.readUntilLine("+OK");
              c.send("CAPA\r\n");
              assert.equal(await c.readUntilLine("."), POP3_ONLY_CAPA);
              c.send("USER alice\r\n");
              assert.equal(await c.readUntilLine("-ERR"), "-ERR invalid command\r\n");
              c.send("STLS\r\nUSER alice\r\nPASS alicepass\r\n");
              assert.equal(await c.readUntilLine("+OK"), "+OK\r\n");
              await c.startTls(tlsOpts);
              c.send("CAPA\r\n");
              assert.equal(await c.readUntilLine("."), POP3_TLS_CAPA, "no replies to the smuggled USER/PASS");
              c.send("STLS\r\n");
              assert.equal(await c.readUntilLine("-ERR"), "-ERR invalid command\r\n");
            } finally {
              c.close();
            }
          },
        );

        await t.step(
          "SMTP starttls only: EHLO lists before and after TLS, AUTH refused, injection dropped",
          async () => {
            const c = await TlsTestClient.open(submission);
            try {
              await c.readUntilLine("220 ");
              c.send("EHLO client.test\r\n");
              assert.equal(await c.readUntilLine("250 "), "250-mail.test\r\n250 STARTTLS\r\n");
              c.send(`AUTH PLAIN ${btoa("\0alice\0alicepass")}\r\n`);
              assert.equal(await c.readUntilLine("500 "), "500 5.5.1 Invalid command\r\n");
              c.send("STARTTLS\r\nEHLO smuggled.test\r\nAUTH PLAIN AGFsaWNlAGFsaWNlcGFzcw==\r\n");
              assert.equal(await c.readUntilLine("220 "), "220 2.0.0 Start TLS\r\n");
              await c.startTls(tlsOpts);
              c.send("EHLO client.test\r\n");
              assert.equal(await c.readUntilLine("250 "), "250-mail.test\r\n250 AUTH PLAIN LOGIN\r\n");
              c.send("NOOP\r\n");
              assert.equal(
                await c.readUntilLine("250 "),
                "250 2.0.0 OK\r\n",
                "nothing left over from the injection",
              );
            } finally {
              c.close();
            }
          },
        );

        await t.step("openssl s_client -starttls pop3 and -starttls smtp: lists after TLS", async () => {
          const pop = await run("openssl", [
            "s_client",
            "-starttls",
            "pop3",
            "-connect",
            `127.0.0.1:${pop3Stls}`,
            "-CAfile",
            pki.ca,
            "-verify_return_error",
            "-quiet",
            "-ign_eof",
            "-crlf",
          ], "CAPA\nQUIT\n");
          assert.equal(pop.code, 0, pop.stderr);
          assert.ok(
            pop.stdout.includes(POP3_TLS_CAPA.slice("+OK Capability list follows\r\n".length)),
            pop.stdout,
          );
          assert.doesNotMatch(pop.stdout, /STLS/);
          const smtp = await run("openssl", [
            "s_client",
            "-starttls",
            "smtp",
            "-connect",
            `127.0.0.1:${submission}`,
            "-CAfile",
            pki.ca,
            "-verify_return_error",
            "-quiet",
            "-ign_eof",
            "-crlf",
          ], "EHLO client.test\nQUIT\n");
          assert.equal(smtp.code, 0, smtp.stderr);
          assert.match(smtp.stdout, /^250-mail\.test\r\n250 AUTH PLAIN LOGIN\r\n/m);
          assert.doesNotMatch(smtp.stdout, /STARTTLS/);
        });

        await t.step("Python poplib: POP3_SSL and POP3.stls() log in and RETR", async () => {
          const code = `
import poplib, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[1])
for kind, port in (("ssl", int(sys.argv[2])), ("stls", int(sys.argv[3]))):
    if kind == "ssl":
        p = poplib.POP3_SSL("127.0.0.1", port, context=ctx)
    else:
        p = poplib.POP3("127.0.0.1", port)
        p.stls(context=ctx)
    p.user("alice")
    p.pass_("alicepass")
    body = b"\\n".join(p.retr(1)[1])
    print(kind, type(p.sock).__name__, b"pop over tls" in body)
    p.quit()
`;
          const r = await run("python3", ["-c", code, pki.ca, String(pop3s), String(pop3Stls)]);
          assert.equal(r.code, 0, r.stderr);
          assert.match(r.stdout, /^ssl SSLSocket True$/m);
          assert.match(r.stdout, /^stls SSLSocket True$/m);
        });

        await t.step("curl smtps:// sends a message with AUTH", async () => {
          const r = await run("curl", [
            "-sS",
            "--max-time",
            "20",
            "--cacert",
            pki.ca,
            `smtps://127.0.0.1:${smtps}`,
            "--mail-from",
            "alice@mail.test",
            "--mail-rcpt",
            "alice@mail.test",
            "--user",
            "alice:alicepass",
            "--upload-file",
            "-",
          ], "Subject: curl smtps\r\n\r\nhello\r\n");
          assert.equal(r.code, 0, r.stderr);
          await postfix.waitForLog(/status=sent/);
        });

        await t.step("TLS garbage on TLS ports closes that connection only", async () => {
          for (const port of [pop3s, smtps]) {
            const junk = await TlsTestClient.open(port);
            try {
              const bytes = new Uint8Array(4096);
              crypto.getRandomValues(bytes);
              bytes[0] = 0x16; // looks like a TLS handshake record, then nonsense
              junk.send(String.fromCharCode(...bytes));
              assert.equal(await junk.waitClosed(5000), true, `port ${port} closes on garbage`);
            } finally {
              junk.close();
            }
          }
          const r = await run("curl", [
            "-sS",
            "--max-time",
            "20",
            "--cacert",
            pki.ca,
            `pop3s://127.0.0.1:${pop3s}/`,
            "--user",
            "alice:alicepass",
          ]);
          assert.equal(r.code, 0, r.stderr);
          assert.match(r.stdout, /^1 \d+/m);
          assert.match(await (await fetch(`${proxy.adminUrl}/healthz`)).text(), /ok/);
        });

        await t.step("Python smtplib: STARTTLS and SMTP_SSL with AUTH deliver through Postfix", async () => {
          const code = `
import smtplib, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[1])
for kind, port in (("starttls", int(sys.argv[2])), ("ssl", int(sys.argv[3]))):
    if kind == "ssl":
        s = smtplib.SMTP_SSL("127.0.0.1", port, context=ctx)
    else:
        s = smtplib.SMTP("127.0.0.1", port)
        s.ehlo("client.test")
        s.starttls(context=ctx)
    s.ehlo("client.test")
    s.login("alice", "alicepass")
    s.sendmail("alice@mail.test", ["alice@mail.test"], "Subject: tls " + kind + "\\r\\n\\r\\nhi\\r\\n")
    print(kind, type(s.sock).__name__)
    s.quit()
`;
          const r = await run("python3", ["-c", code, pki.ca, String(submission), String(smtps)]);
          assert.equal(r.code, 0, r.stderr);
          assert.match(r.stdout, /^starttls SSLSocket$/m);
          assert.match(r.stdout, /^ssl SSLSocket$/m);
          await postfix.waitForLog(/status=sent/);
        });
      } finally {
        await proxy.stop();
      }
    },
  });
}

Deno.test({
  name: "pop3/smtp TLS lab teardown",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    if (!labPromise) return await removeTestPki();
    const { dovecot, postfix, auth } = await labPromise;
    await auth.stop();
    await postfix.stop();
    await dovecot.stop();
    await removeTestPki();
  },
});
