/**
 * OAuth 2.0 logins (issue #17), token swapped by auth_http (freenginx 1.27.1 contract):
 * real Dovecot (IMAP, POP3) and Postfix (SMTP) behind mailproxy under Deno and Bun,
 * driven by curl --oauth2-bearer, Python imaplib/smtplib and raw transcripts for the
 * Auth-Error-SASL challenge. The lab auth service checks the bearer token and answers
 * with the backend password (Auth-Pass), so the backend login is the usual one.
 */

import { python, run } from "./helpers/run.ts";
import assert from "node:assert/strict";
import { freePort } from "./lab/ports.ts";
import {
  type AuthHeaders,
  type AuthService,
  startAuthService,
  unescapeAuthValue,
} from "./lab/auth_service.ts";
import { type Dovecot, startDovecot } from "./lab/dovecot.ts";
import { type Postfix, startPostfix } from "./lab/postfix.ts";
import { LineClient } from "./helpers/line_client.ts";
import { type ProxyProcess, startProxy } from "./helpers/proxy_process.ts";
import { RUNTIMES } from "./helpers/runtimes.ts";
import {
  OAUTH_BAD_TOKEN,
  OAUTH_BIG_TOKEN,
  OAUTH_SHORT_TOKEN,
  OAUTH_TEST_TOKENS,
} from "./helpers/oauth_tokens.ts";
import { findSecrets } from "./helpers/robustness.ts";

const TOKEN = OAUTH_BIG_TOKEN;
const SHORT_TOKEN = OAUTH_SHORT_TOKEN;
const BAD_TOKEN = OAUTH_BAD_TOKEN;
const ERROR_JSON = btoa('{"status":"invalid_token","schemes":"bearer","scope":"mail"}');

interface Lab {
  dovecot: Dovecot;
  postfix: Postfix;
  auth: AuthService;
}

let labPromise: Promise<Lab> | undefined;
function lab(): Promise<Lab> {
  labPromise ??= (async () => {
    const saslPort = await freePort();
    const dovecot = await startDovecot({
      extraConfig:
        `service auth {\n  inet_listener postfix {\n    address = 127.0.0.1\n    port = ${saslPort}\n  }\n}\n`,
    });
    dovecot.addMessage(
      "alice",
      "From: bob@example.com\r\nTo: alice@example.com\r\nSubject: oauth hello\r\n\r\nHi.\r\n",
    );
    const postfix = await startPostfix({
      lmtpPort: dovecot.lmtpPort,
      domain: "mail.test",
      dovecotSaslPath: `inet:127.0.0.1:${saslPort}`,
    });
    const backends = {
      imap: { host: "127.0.0.1", port: dovecot.imapPort },
      pop3: { host: "127.0.0.1", port: dovecot.pop3Port },
      smtp: { host: "127.0.0.1", port: postfix.smtpPort },
    };
    const auth = await startAuthService({ backends });
    // The token swap: a good token becomes alice's backend password; a bad one gets the
    // RFC 7628 error JSON. Password logins fall through to the default behaviour.
    auth.script((h: AuthHeaders): AuthHeaders | undefined => {
      const method = h["Auth-Method"];
      if (method !== "oauthbearer" && method !== "xoauth2") return undefined;
      const token = unescapeAuthValue(h["Auth-Pass"] ?? "");
      const protocol = h["Auth-Protocol"] as keyof typeof backends;
      if (token === TOKEN || token === SHORT_TOKEN) {
        return {
          "Auth-Status": "OK",
          "Auth-Server": "127.0.0.1",
          "Auth-Port": String(backends[protocol].port),
          "Auth-User": "alice",
          "Auth-Pass": "alicepass",
        };
      }
      return { "Auth-Status": "Invalid token", "Auth-Wait": "1", "Auth-Error-SASL": ERROR_JSON };
    });
    return { dovecot, postfix, auth };
  })();
  return labPromise;
}

for (const runtime of RUNTIMES) {
  Deno.test({
    name: `oauth (token swapped by auth_http) on ${runtime}`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      const { auth } = await lab();
      const [imap, pop3, smtp] = [await freePort(), await freePort(), await freePort()];
      const proxy: ProxyProcess = await startProxy(
        runtime,
        `
server_name = "proxy.test"
auth_http = "${auth.url}"
timeout = "10s"

[log]
level = "info"

[[server]]
listen = "127.0.0.1:${imap}"
protocol = "imap"
imap_auth = ["plain", "oauthbearer", "xoauth2"]

[[server]]
listen = "127.0.0.1:${pop3}"
protocol = "pop3"
pop3_auth = ["plain", "oauthbearer", "xoauth2"]

[[server]]
listen = "127.0.0.1:${smtp}"
protocol = "smtp"
smtp_auth = ["plain", "login", "oauthbearer", "xoauth2"]
`,
        [imap, pop3, smtp],
      );
      try {
        await t.step("IMAP: curl --oauth2-bearer (OAUTHBEARER, 6 KiB token) lists the INBOX", async () => {
          const r = await run("curl", [
            "-sS",
            "--max-time",
            "20",
            `imap://127.0.0.1:${imap}/INBOX?SUBJECT%20%22oauth%20hello%22`,
            "--user",
            "alice",
            "--oauth2-bearer",
            TOKEN,
          ]);
          assert.equal(r.code, 0, r.stderr);
          assert.match(r.stdout, /\* SEARCH \d+/);
        });

        await t.step(
          "IMAP: Python imaplib AUTHENTICATE XOAUTH2 (6 KiB token) fetches a message",
          async () => {
            const r = await python(
              `import imaplib,sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
m.authenticate("XOAUTH2", lambda _: ("user=alice\\x01auth=Bearer %s\\x01\\x01" % sys.argv[2]).encode())
m.select("INBOX", readonly=True)
typ, data = m.search(None, "SUBJECT", '"oauth hello"')
typ, msg = m.fetch(data[0].split()[0], "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
sys.stdout.write(msg[0][1].decode())
m.logout()`,
              String(imap),
              TOKEN,
            );
            assert.equal(r.code, 0, r.stderr);
            assert.match(r.stdout, /Subject: oauth hello/);
          },
        );

        await t.step(
          "POP3: curl --oauth2-bearer (6 KiB token on the continuation line) lists messages",
          async () => {
            const r = await run("curl", [
              "-sS",
              "--max-time",
              "20",
              `pop3://127.0.0.1:${pop3}/`,
              "--user",
              "alice",
              "--oauth2-bearer",
              TOKEN,
            ]);
            assert.equal(r.code, 0, r.stderr);
            assert.match(r.stdout, /^1 \d+/m);
          },
        );

        await t.step("POP3: AUTH XOAUTH2 with an initial response retrieves a message", async () => {
          const c = await LineClient.open(pop3);
          try {
            await c.readUntilLine("+OK");
            c.send(`AUTH XOAUTH2 ${btoa(`user=alice\x01auth=Bearer ${SHORT_TOKEN}\x01\x01`)}\r\n`);
            assert.match(await c.readUntilLine("+OK"), /^\+OK/m);
            c.send("RETR 1\r\n");
            assert.match(await c.readUntilLine("."), /Subject: /);
          } finally {
            c.close();
          }
        });

        await t.step("SMTP: Python smtplib AUTH OAUTHBEARER (6 KiB token) sends a message", async () => {
          const r = await python(
            `import smtplib,sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]))
s.ehlo("laptop.example")
s.auth("OAUTHBEARER", lambda challenge=None: "n,a=alice,\\x01auth=Bearer %s\\x01\\x01" % sys.argv[2], initial_response_ok=True)
s.sendmail("alice@mail.test", ["alice@mail.test"], "Subject: oauth smtp\\r\\n\\r\\nHi.\\r\\n")
s.quit()
print("sent")`,
            String(smtp),
            TOKEN,
          );
          assert.equal(r.code, 0, r.stderr);
          assert.match(r.stdout, /sent/);
        });

        await t.step("SMTP: curl --oauth2-bearer (XOAUTH2 or OAUTHBEARER) sends a message", async () => {
          const r = await run(
            "curl",
            [
              "-sS",
              "--max-time",
              "20",
              `smtp://127.0.0.1:${smtp}`,
              "--mail-from",
              "alice@mail.test",
              "--mail-rcpt",
              "alice@mail.test",
              "--user",
              "alice",
              "--oauth2-bearer",
              SHORT_TOKEN,
              "-T",
              "-",
            ],
            "Subject: oauth curl\r\n\r\nHi.\r\n",
          );
          assert.equal(r.code, 0, r.stderr);
        });

        await t.step(
          "IMAP: a bad token gets the error challenge, the dummy response, NO; then a success",
          async () => {
            const c = await LineClient.open(imap);
            try {
              await c.readUntilLine("* OK");
              const bad = btoa(`n,a=alice,\x01auth=Bearer ${BAD_TOKEN}\x01\x01`);
              c.send(`a AUTHENTICATE OAUTHBEARER ${bad}\r\n`);
              assert.equal(await c.readUntilLine("+ "), `+ ${ERROR_JSON}\r\n`);
              c.send("AQ==\r\n");
              assert.equal(await c.readUntilLine("a "), "a NO Invalid token\r\n");
              c.send("b AUTHENTICATE XOAUTH2\r\n");
              assert.equal(await c.readUntilLine("+"), "+ \r\n");
              c.send(`${btoa(`user=alice\x01auth=Bearer ${BAD_TOKEN}\x01\x01`)}\r\n`);
              assert.equal(await c.readUntilLine("+ "), `+ ${ERROR_JSON}\r\n`);
              c.send("\r\n");
              assert.equal(await c.readUntilLine("b "), "b NO Invalid token\r\n");
              c.send(`c AUTHENTICATE OAUTHBEARER ${btoa(`n,,\x01auth=Bearer ${SHORT_TOKEN}\x01\x01`)}\r\n`);
              assert.match(await c.readUntilLine("c "), /^c OK/m);
            } finally {
              c.close();
            }
          },
        );

        await t.step(
          "POP3 and SMTP: error challenge, dummy response, failure; a wrong dummy is an error",
          async () => {
            const p = await LineClient.open(pop3);
            try {
              await p.readUntilLine("+OK");
              p.send(`AUTH OAUTHBEARER ${btoa(`n,,\x01auth=Bearer ${BAD_TOKEN}\x01\x01`)}\r\n`);
              assert.equal(await p.readUntilLine("+ "), `+ ${ERROR_JSON}\r\n`);
              p.send("AQ==\r\n");
              assert.equal(await p.readUntilLine("-ERR"), "-ERR Invalid token\r\n");
            } finally {
              p.close();
            }
            const s = await LineClient.open(smtp);
            try {
              await s.readUntilLine("220 ");
              s.send("EHLO c\r\n");
              await s.readUntilLine("250 ");
              s.send(`AUTH XOAUTH2 ${btoa(`user=alice\x01auth=Bearer ${BAD_TOKEN}\x01\x01`)}\r\n`);
              assert.equal(await s.readUntilLine("334 "), `334 ${ERROR_JSON}\r\n`);
              s.send("AQ==\r\n");
              assert.equal(await s.readUntilLine("535"), "535 5.7.0 Invalid token\r\n");
              s.send(`AUTH OAUTHBEARER ${btoa(`n,,\x01auth=Bearer ${BAD_TOKEN}\x01\x01`)}\r\n`);
              assert.equal(await s.readUntilLine("334 "), `334 ${ERROR_JSON}\r\n`);
              s.send("bm90IGR1bW15\r\n");
              assert.equal(await s.readUntilLine("501"), "501 5.5.4 Invalid argument\r\n");
            } finally {
              s.close();
            }
          },
        );

        await t.step("the tokens never reach the logs", () => {
          assert.deepEqual(findSecrets(proxy.logs(), OAUTH_TEST_TOKENS), []);
        });
      } finally {
        await proxy.stop();
      }
    },
  });
}

Deno.test({
  name: "oauth: lab teardown",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    if (!labPromise) return;
    const { dovecot, postfix, auth } = await labPromise;
    await auth.stop();
    await postfix.stop();
    await dovecot.stop();
  },
});
