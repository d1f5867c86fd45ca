/**
 * OAuth 2.0 logins replayed to the backend (issue #17, `proxy_auth_mech`): the auth
 * service answers OK without Auth-Pass, so mailproxy logs in to Dovecot with the
 * client's mechanism and the token; Dovecot checks the token itself (its `oauth2`
 * passdb, introspection against a small HTTP stub this test starts). Under Deno and
 * Bun, with curl --oauth2-bearer (OAUTHBEARER) and Python imaplib (XOAUTH2).
 */

import { python, run } from "./helpers/run.ts";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { freePort } from "./lab/ports.ts";
import { type AuthHeaders, type AuthService, startAuthService } from "./lab/auth_service.ts";
import { type Dovecot, startDovecot } from "./lab/dovecot.ts";
import { type ProxyProcess, startProxy } from "./helpers/proxy_process.ts";
import { RUNTIMES } from "./helpers/runtimes.ts";
import { OAUTH_4K_TOKEN, OAUTH_SHORT_TOKEN, OAUTH_TEST_TOKENS } from "./helpers/oauth_tokens.ts";
import { findSecrets } from "./helpers/robustness.ts";

interface Lab {
  dovecot: Dovecot;
  auth: AuthService;
  introspection: Server;
  /** Tokens Dovecot asked about. */
  asked: string[];
}

let labPromise: Promise<Lab> | undefined;
function lab(): Promise<Lab> {
  labPromise ??= (async () => {
    const asked: string[] = [];
    const introPort = await freePort();
    // RFC 7662 token introspection, as Dovecot's oauth2 passdb asks it (introspection_mode = post).
    const introspection = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => body += chunk);
      req.on("end", () => {
        const token = new URLSearchParams(body).get("token") ?? "";
        asked.push(token);
        const active = token === OAUTH_4K_TOKEN || token === OAUTH_SHORT_TOKEN;
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(active ? { active: true, username: "alice" } : { active: false }));
      });
    });
    await new Promise<void>((resolve) => introspection.listen(introPort, "127.0.0.1", resolve));
    const confDir = await Deno.makeTempDir({ prefix: "mailproxy-oauth2-" });
    const conf = `${confDir}/dovecot-oauth2.conf.ext`;
    await Deno.writeTextFile(
      conf,
      `introspection_mode = post\nintrospection_url = http://127.0.0.1:${introPort}/introspect\n` +
        "force_introspection = yes\nusername_attribute = username\nactive_attribute = active\nactive_value = true\n",
    );
    await Deno.chmod(confDir, 0o755);
    await Deno.chmod(conf, 0o644);
    const dovecot = await startDovecot({
      extraConfig: `auth_mechanisms = plain login oauthbearer xoauth2
passdb {
  driver = oauth2
  # plain/login too: proxy_auth_mech = "plain" sends the token as the LOGIN password.
  mechanisms = xoauth2 oauthbearer plain login
  args = ${conf}
}
`,
    });
    dovecot.addMessage(
      "alice",
      "From: bob@example.com\r\nTo: alice@example.com\r\nSubject: replayed\r\n\r\nHi.\r\n",
    );
    const auth = await startAuthService({
      backends: { imap: { host: "127.0.0.1", port: dovecot.imapPort } },
    });
    // No Auth-Pass: the token itself must reach the backend.
    auth.script((h: AuthHeaders): AuthHeaders | undefined => {
      if (h["Auth-Method"] !== "oauthbearer" && h["Auth-Method"] !== "xoauth2") return undefined;
      return { "Auth-Status": "OK", "Auth-Server": "127.0.0.1", "Auth-Port": String(dovecot.imapPort) };
    });
    return { dovecot, auth, introspection, asked };
  })();
  return labPromise;
}

for (const runtime of RUNTIMES) {
  Deno.test({
    name: `oauth replayed to Dovecot on ${runtime}`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      const { auth, asked } = await lab();
      const [auto, forcedPlain] = [await freePort(), await freePort()];
      const proxy: ProxyProcess = await startProxy(
        runtime,
        `
auth_http = "${auth.url}"
timeout = "10s"

[log]
level = "info"

[[server]]
listen = "127.0.0.1:${auto}"
protocol = "imap"
imap_auth = ["plain", "oauthbearer", "xoauth2"]

[[server]]
listen = "127.0.0.1:${forcedPlain}"
protocol = "imap"
imap_auth = ["oauthbearer", "xoauth2"]
proxy_auth_mech = "plain"
`,
        [auto, forcedPlain],
      );
      try {
        // Dovecot's login processes take SASL responses up to 8 KiB of base64 ("Authentication
        // response too large" beyond), so the replayed token is 4 KiB here.
        await t.step("curl --oauth2-bearer: AUTHENTICATE OAUTHBEARER replayed, 4 KiB token", async () => {
          const before = asked.length;
          const r = await run("curl", [
            "-sS",
            "--max-time",
            "20",
            `imap://127.0.0.1:${auto}/INBOX?SUBJECT%20replayed`,
            "--user",
            "alice",
            "--oauth2-bearer",
            OAUTH_4K_TOKEN,
          ]);
          assert.equal(r.code, 0, r.stderr + proxy.logs().slice(-2000));
          assert.match(r.stdout, /\* SEARCH \d+/);
          assert.ok(asked.slice(before).includes(OAUTH_4K_TOKEN), "Dovecot checked the token itself");
        });

        await t.step(
          "imaplib XOAUTH2 replayed; forced plain sends the token as the LOGIN password",
          async () => {
            for (const port of [auto, forcedPlain]) {
              const r = await python(
                `import imaplib,sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
m.authenticate("XOAUTH2", lambda _: ("user=alice\\x01auth=Bearer %s\\x01\\x01" % sys.argv[2]).encode())
m.select("INBOX", readonly=True)
typ, data = m.search(None, "SUBJECT", "replayed")
print(typ, data[0].decode())
m.logout()`,
                String(port),
                OAUTH_SHORT_TOKEN,
              );
              assert.equal(r.code, 0, r.stderr);
              assert.match(r.stdout, /OK \d+/);
            }
          },
        );

        await t.step("a token Dovecot refuses fails the login", async () => {
          const r = await python(
            `import imaplib,sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
try:
    m.authenticate("XOAUTH2", lambda _: b"user=alice\\x01auth=Bearer not-active\\x01\\x01")
    print("logged in")
except Exception as e:
    print("refused", e)`,
            String(auto),
          );
          assert.match(r.stdout, /refused/);
        });

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
  name: "oauth replay: lab teardown",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    if (!labPromise) return;
    const { dovecot, auth, introspection } = await labPromise;
    await auth.stop();
    await dovecot.stop();
    await new Promise((resolve) => introspection.close(resolve));
  },
});
