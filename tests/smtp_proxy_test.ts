/**
 * SMTP end to end: real Postfix behind mailproxy (started as a process under Deno and under
 * Bun), mail sent by swaks and Python smtplib, delivered by Postfix into Dovecot over LMTP and
 * read back through mailproxy's IMAP port. Clients connect from other loopback addresses
 * (127.0.0.3 and up) than the proxy's own 127.0.0.1, so Postfix's log and the Received header
 * prove that XCLIENT named the client, not the proxy. A test DNS server gives those addresses
 * host names (or failures) for the resolver.
 */

import { run } from "./helpers/run.ts";
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { type AuthService, startAuthService } from "./lab/auth_service.ts";
import { type DnsServer, startDnsServer } from "./lab/dns_server.ts";
import { type Dovecot, startDovecot } from "./lab/dovecot.ts";
import { freePort } from "./lab/ports.ts";
import { type Postfix, startPostfix } from "./lab/postfix.ts";
import { type ProxyProcess, startProxy } from "./helpers/proxy_process.ts";
import { RUNTIMES } from "./helpers/runtimes.ts";

const python = (code: string, ...args: string[]) => run("python3", ["-c", code, ...args]);

/** A raw SMTP client bound to a chosen loopback source address. */
class RawClient {
  #buffer = "";
  #closed = false;
  #wake: (() => void) | null = null;

  private constructor(readonly socket: Socket) {
    socket.on("data", (d: Uint8Array) => {
      this.#buffer += new TextDecoder("latin1").decode(d);
      this.#wake?.();
    });
    socket.on("close", () => {
      this.#closed = true;
      this.#wake?.();
    });
    socket.on("error", () => {});
  }

  static open(port: number, from: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: "127.0.0.1", port, localAddress: from });
      s.once("connect", () => resolve(new RawClient(s)));
      s.once("error", reject);
    });
  }

  send(text: string): void {
    this.socket.write(text);
  }

  /** Waits for a complete line starting with `prefix` (or close / `ms`); returns and consumes everything. */
  async line(prefix: string, ms = 10_000): Promise<string> {
    const deadline = Date.now() + ms;
    const has = () => this.#buffer.split("\r\n").slice(0, -1).some((l) => l.startsWith(prefix));
    while (!has() && !this.#closed && Date.now() < deadline) {
      await new Promise<void>((r) => {
        const t = setTimeout(r, deadline - Date.now());
        this.#wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
    const out = this.#buffer;
    this.#buffer = "";
    return out;
  }

  /** True once the server closed (waits up to `ms`). */
  async closed(ms = 3000): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!this.#closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.#closed;
  }

  close(): void {
    this.socket.destroy();
  }
}

interface Lab {
  dovecot: Dovecot;
  postfix: Postfix;
  dns: DnsServer;
  auth: AuthService;
}

let labPromise: Promise<Lab> | undefined;
function lab(): Promise<Lab> {
  labPromise ??= (async () => {
    // Dovecot also serves Postfix's SASL (for proxy_smtp_auth) on an auth inet listener.
    const saslPort = await freePort();
    const dovecot = await startDovecot({
      extraConfig:
        `service auth {\n  inet_listener postfix {\n    address = 127.0.0.1\n    port = ${saslPort}\n  }\n}\n`,
    });
    const postfix = await startPostfix({
      lmtpPort: dovecot.lmtpPort,
      domain: "mail.test",
      dovecotSaslPath: `inet:127.0.0.1:${saslPort}`,
    });
    const dns = await startDnsServer({
      ptr: {
        "127.0.0.3": "client3.test",
        "127.0.0.4": "liar.test",
        "127.0.0.5": "servfail",
        "127.0.0.6": "bad name.test",
        "127.0.0.7": "drop",
      },
      a: { "client3.test": ["127.0.0.3"], "liar.test": ["127.0.0.9"] },
    });
    const auth = await startAuthService({
      backends: {
        smtp: { host: "127.0.0.1", port: postfix.smtpPort },
        imap: { host: "127.0.0.1", port: dovecot.imapPort },
      },
    });
    return { dovecot, postfix, dns, auth };
  })();
  return labPromise;
}

/** Waits until alice's INBOX (read through the proxy's IMAP port) has a message with `subject`; returns it. */
async function readBack(imapPort: number, subject: string): Promise<string> {
  const r = await python(
    `import imaplib,sys,time
deadline = time.time() + 15
while True:
    m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
    m.login("alice", "alicepass")
    m.select("INBOX", readonly=True)
    typ, data = m.search(None, "SUBJECT", '"%s"' % sys.argv[2])
    ids = data[0].split()
    if ids:
        typ, msg = m.fetch(ids[-1], "(BODY.PEEK[])")
        sys.stdout.write(msg[0][1].decode("latin1"))
        m.logout()
        break
    m.logout()
    if time.time() > deadline:
        sys.exit("not delivered")
    time.sleep(0.2)`,
    String(imapPort),
    subject,
  );
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

for (const runtime of RUNTIMES) {
  Deno.test({
    name: `smtp proxy on ${runtime}`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      const { postfix, dns, auth } = await lab();
      const [submission, mx, imap, smtpAuth, delayed] = await Promise.all(
        [0, 1, 2, 3, 4].map(() => freePort()),
      );
      const proxy: ProxyProcess = await startProxy(
        runtime,
        `
server_name = "proxy.test"
auth_http = "${auth.url}"
timeout = "10s"
resolver = ["${dns.address}"]
resolver_timeout = "1s"

[log]
level = "info"

[[server]]
listen = "127.0.0.1:${submission}"
protocol = "smtp"
smtp_auth = ["plain", "login"]

[[server]]
listen = "127.0.0.1:${mx}"
protocol = "smtp"
smtp_auth = ["none"]

[[server]]
listen = "127.0.0.1:${imap}"
protocol = "imap"

[[server]]
listen = "127.0.0.1:${smtpAuth}"
protocol = "smtp"
proxy_smtp_auth = true

[[server]]
listen = "127.0.0.1:${delayed}"
protocol = "smtp"
resolver = false
smtp_greeting_delay = "700ms"
`,
        [submission, mx, imap, smtpAuth, delayed],
      );
      try {
        await t.step(
          "swaks AUTH PLAIN: delivered, Postfix sees the client's address via XCLIENT",
          async () => {
            const subject = `swaks plain ${runtime} ${Date.now()}`;
            const r = await run("swaks", [
              "--server",
              `127.0.0.1:${submission}`,
              "--local-interface",
              "127.0.0.3",
              "--ehlo",
              "laptop.example",
              "--from",
              "alice@mail.test",
              "--to",
              "alice@mail.test",
              "--auth",
              "PLAIN",
              "--auth-user",
              "alice",
              "--auth-password",
              "alicepass",
              "--header",
              `Subject: ${subject}`,
            ]);
            assert.equal(r.code, 0, r.stdout + r.stderr);
            assert.match(r.stdout, /<- {2}235 2\.0\.0 OK/);
            const queued = /250 2\.0\.0 Ok: queued as ([0-9A-F]+)/.exec(r.stdout);
            assert.ok(queued, r.stdout);
            const line = await postfix.waitForLog(new RegExp(`${queued[1]}: client=[^\\n]*`));
            assert.match(
              line,
              /client=client3\.test\[127\.0\.0\.3\], sasl_method=XCLIENT, sasl_username=alice/,
            );
            const message = await readBack(imap, subject);
            assert.match(message, /Received: from laptop\.example \(client3\.test \[127\.0\.0\.3\]\)/);
            assert.doesNotMatch(message, /\[127\.0\.0\.1\]\)\s+by postfix\.test/);
          },
        );

        await t.step("smtplib AUTH LOGIN from 127.0.0.3, read back through the proxy's IMAP", async () => {
          const subject = `smtplib login ${runtime} ${Date.now()}`;
          const r = await python(
            `import smtplib,sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), source_address=("127.0.0.3", 0))
s.ehlo("pylaptop")
assert "LOGIN" in s.esmtp_features["auth"], s.esmtp_features
s.user, s.password = "alice", "alicepass"
code, text = s.auth("LOGIN", s.auth_login, initial_response_ok=False)
print(code, text.decode())
s.sendmail("alice@mail.test", ["alice@mail.test"], "Subject: %s\\r\\n\\r\\nhello via LOGIN\\r\\n" % sys.argv[2])
s.quit()`,
            String(submission),
            subject,
          );
          assert.equal(r.code, 0, r.stderr);
          assert.equal(r.stdout.trim(), "235 2.0.0 OK");
          const message = await readBack(imap, subject);
          assert.match(message, /Received: from pylaptop \(client3\.test \[127\.0\.0\.3\]\)/);
          assert.match(message, /hello via LOGIN/);
        });

        await t.step("smtplib AUTH PLAIN (login()) from a client without PTR record", async () => {
          const subject = `smtplib plain ${runtime} ${Date.now()}`;
          const r = await python(
            `import smtplib,sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), source_address=("127.0.0.8", 0))
print(s.login("alice", "alicepass"))
s.sendmail("alice@mail.test", ["alice@mail.test", "bob@mail.test"], "Subject: %s\\r\\n\\r\\nhi\\r\\n" % sys.argv[2])
s.quit()`,
            String(submission),
            subject,
          );
          assert.equal(r.code, 0, r.stderr);
          assert.match(r.stdout, /\(235, b'2\.0\.0 OK'\)/);
          // 127.0.0.8 has no PTR record: NXDOMAIN gives [UNAVAILABLE], which Postfix shows as "unknown".
          const message = await readBack(imap, subject);
          assert.match(message, /\(unknown \[127\.0\.0\.8\]\)/);
        });

        await t.step("a wrong password gets 535 and the connection closes", async () => {
          const c = await RawClient.open(submission, "127.0.0.3");
          try {
            assert.equal(await c.line("220"), "220 proxy.test ESMTP ready\r\n");
            c.send(`AUTH PLAIN ${btoa("\0alice\0wrong")}\r\n`);
            assert.equal(await c.line("535"), "535 5.7.0 Invalid login or password\r\n");
            assert.ok(await c.closed());
          } finally {
            c.close();
          }
        });

        await t.step("Client-Host: confirmed name, mismatch, SERVFAIL, invalid name, timeout", async () => {
          const cases: [string, string][] = [
            ["127.0.0.3", "client3.test"],
            ["127.0.0.4", "[UNAVAILABLE]"],
            ["127.0.0.5", "[TEMPUNAVAIL]"],
            ["127.0.0.6", "[TEMPUNAVAIL]"],
            ["127.0.0.7", "[TEMPUNAVAIL]"],
            ["127.0.0.8", "[UNAVAILABLE]"],
          ];
          for (const [from, host] of cases) {
            const before = auth.requests.length;
            const started = Date.now();
            const c = await RawClient.open(submission, from);
            try {
              assert.match(await c.line("220"), /^220 /);
              const waited = Date.now() - started;
              if (from === "127.0.0.7") {
                assert.ok(waited >= 900, `greeting after the 1 s resolver_timeout (${waited} ms)`);
              }
              c.send(`AUTH PLAIN ${btoa("\0nobody\0x")}\r\n`);
              await c.line("535");
            } finally {
              c.close();
            }
            const req = auth.requests.slice(before).find((h) => h["Client-IP"] === from);
            assert.ok(req, `an auth request from ${from}`);
            assert.equal(req["Client-Host"], host, from);
          }
          assert.ok(dns.questions.some((q) => q.type === "PTR" && q.name === "6.0.0.127.in-addr.arpa"));
          assert.ok(!dns.questions.some((q) => q.name.includes(" ")), "the invalid name was never looked up");
        });

        await t.step("smtp_auth none: the auth service decides by RCPT (MX use)", async () => {
          auth.script((h) => {
            if (h["Auth-Method"] !== "none") return undefined;
            if (/bob@/.test(h["Auth-SMTP-To"] ?? "")) {
              return { "Auth-Status": "Recipient refused", "Auth-Error-Code": "550 5.1.1", "Auth-Wait": "0" };
            }
            return undefined;
          });
          try {
            const before = auth.requests.length;
            const subject = `mx ${runtime} ${Date.now()}`;
            const r = await run("swaks", [
              "--server",
              `127.0.0.1:${mx}`,
              "--local-interface",
              "127.0.0.3",
              "--ehlo",
              "sender.example",
              "--from",
              "someone@sender.example",
              "--to",
              "alice@mail.test",
              "--header",
              `Subject: ${subject}`,
            ]);
            assert.equal(r.code, 0, r.stdout + r.stderr);
            assert.match(r.stdout, /<- {2}250 2\.1\.5 Ok/, "the client hears Postfix's RCPT reply");
            const req = auth.requests.slice(before).find((h) => h["Auth-Method"] === "none")!;
            assert.equal(req["Auth-SMTP-Helo"], "sender.example");
            assert.equal(req["Auth-SMTP-From"], "MAIL FROM:<someone@sender.example>");
            assert.equal(req["Auth-SMTP-To"], "RCPT TO:<alice@mail.test>");
            assert.equal(req["Auth-User"], "");
            assert.equal(req["Client-Host"], "client3.test");
            const message = await readBack(imap, subject);
            assert.match(message, /Received: from sender\.example \(client3\.test \[127\.0\.0\.3\]\)/);

            const c = await RawClient.open(mx, "127.0.0.3");
            try {
              await c.line("220");
              c.send("EHLO sender.example\r\n");
              assert.equal(await c.line("250 "), "250 proxy.test\r\n");
              c.send("MAIL FROM:<someone@sender.example>\r\n");
              assert.equal(await c.line("250"), "250 2.0.0 OK\r\n");
              c.send("RCPT TO:<bob@mail.test>\r\n");
              assert.equal(await c.line("550"), "550 5.1.1 Recipient refused\r\n");
              assert.ok(await c.closed());
            } finally {
              c.close();
            }
          } finally {
            auth.script(undefined);
          }
        });

        await t.step(
          "proxy_smtp_auth: Postfix authenticates the user itself (SASL via Dovecot)",
          async () => {
            const subject = `proxy_smtp_auth ${runtime} ${Date.now()}`;
            const r = await run("swaks", [
              "--server",
              `127.0.0.1:${smtpAuth}`,
              "--local-interface",
              "127.0.0.3",
              "--from",
              "alice@mail.test",
              "--to",
              "alice@mail.test",
              "--auth",
              "LOGIN",
              "--auth-user",
              "alice",
              "--auth-password",
              "alicepass",
              "--header",
              `Subject: ${subject}`,
            ]);
            assert.equal(r.code, 0, r.stdout + r.stderr);
            const queued = /250 2\.0\.0 Ok: queued as ([0-9A-F]+)/.exec(r.stdout)!;
            const line = await postfix.waitForLog(new RegExp(`${queued[1]}: client=[^\\n]*`));
            assert.match(
              line,
              /client=client3\.test\[127\.0\.0\.3\], sasl_method=PLAIN, sasl_username=alice/,
            );
            await readBack(imap, subject);
          },
        );

        await t.step(
          "smtp_greeting_delay: a client talking first is rejected, a patient one greeted",
          async () => {
            const eager = await RawClient.open(delayed, "127.0.0.3");
            try {
              eager.send("EHLO impatient\r\n");
              assert.equal(await eager.line("503"), "503 5.5.0 Improper use of SMTP command pipelining\r\n");
              assert.ok(await eager.closed());
            } finally {
              eager.close();
            }
            const started = Date.now();
            const patient = await RawClient.open(delayed, "127.0.0.3");
            try {
              assert.equal(await patient.line("220"), "220 proxy.test ESMTP ready\r\n");
              assert.ok(Date.now() - started >= 650, `greeted after ${Date.now() - started} ms`);
              patient.send("QUIT\r\n");
              assert.equal(await patient.line("221"), "221 2.0.0 Bye\r\n");
            } finally {
              patient.close();
            }
          },
        );

        await t.step("no password ever reaches the logs", () => {
          const logs = proxy.logs();
          assert.ok(!logs.includes("alicepass"), logs);
          assert.ok(!logs.includes(btoa("\0alice\0alicepass")), logs);
          assert.match(logs, /client logged in/);
          assert.match(logs, /rejected before greeting/);
        });
      } finally {
        const code = await proxy.stop();
        assert.equal(code, 0, `exit code; logs:\n${proxy.logs()}`);
      }
    },
  });
}

Deno.test({
  name: "smtp lab teardown",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    if (!labPromise) return;
    const { dovecot, postfix, dns, auth } = await labPromise;
    await auth.stop();
    await dns.stop();
    await postfix.stop();
    await dovecot.stop();
  },
});
