/**
 * `[auth_cache]` end to end: real Dovecot behind mailproxy (Deno and Bun), the lab's
 * auth_http service counting requests, Python imaplib logging in. Five logins of one
 * user cost one auth request; a changed password misses (and its refusal is cached for
 * negative_ttl); a per-user flush through the admin API makes the next login ask again;
 * `Auth-Cache: no` keeps a reply out; CRAM-MD5 is never cached; no password reaches the
 * log or the metrics.
 */

import assert from "node:assert/strict";
import { python } from "./helpers/run.ts";
import { startProxy } from "./helpers/proxy_process.ts";
import { findSecrets, metricsText } from "./helpers/robustness.ts";
import { RUNTIMES } from "./helpers/runtimes.ts";
import { type AuthService, startAuthService } from "./lab/auth_service.ts";
import { type Dovecot, startDovecot } from "./lab/dovecot.ts";
import { freePort } from "./lab/ports.ts";

interface Lab {
  dovecot: Dovecot;
  auth: AuthService;
}

let labPromise: Promise<Lab> | undefined;
function lab(): Promise<Lab> {
  labPromise ??= (async () => {
    const dovecot = await startDovecot();
    const auth = await startAuthService({
      backends: { imap: { host: "127.0.0.1", port: dovecot.imapPort } },
    });
    return { dovecot, auth };
  })();
  return labPromise;
}

/** One connection per `[user, password, method]`; prints `ok` or `failed` per attempt. */
const LOGINS = `
import imaplib, json, sys
port = int(sys.argv[1])
out = []
for user, password, method in json.loads(sys.argv[2]):
    c = imaplib.IMAP4("127.0.0.1", port, timeout=20)
    try:
        if method == "cram":
            c.login_cram_md5(user, password)
        else:
            c.login(user, password)
        c.select("INBOX")
        out.append("ok")
        c.logout()
    except imaplib.IMAP4.error:
        out.append("failed")
print(json.dumps(out))
`;

const CHANGED = "changed-password-4k2q";

for (const runtime of RUNTIMES) {
  Deno.test({
    name: `auth_cache with Dovecot on ${runtime}`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      const { auth, dovecot } = await lab();
      const port = await freePort();
      const proxy = await startProxy(
        runtime,
        `
auth_http = "${auth.url}"

[auth_cache]
ttl = "5m"
negative_ttl = "5m"

[[server]]
listen = "127.0.0.1:${port}"
protocol = "imap"
imap_auth = ["plain", "login", "cram-md5"]
`,
        [port],
      );
      const logins = async (attempts: [string, string, string?][]): Promise<string[]> => {
        const r = await python(
          LOGINS,
          String(port),
          JSON.stringify(attempts.map(([u, p, m]) => [u, p, m ?? ""])),
        );
        assert.equal(r.code, 0, r.stderr);
        return JSON.parse(r.stdout);
      };
      const asked = (user: string) => auth.requests.filter((h) => h["Auth-User"] === user).length;
      try {
        await t.step("five logins of one user cost one auth_http request", async () => {
          const before = asked("alice");
          assert.deepEqual(await logins(Array(5).fill(["alice", "alicepass"])), Array(5).fill("ok"));
          assert.equal(asked("alice") - before, 1);
        });

        await t.step("a changed password misses; its refusal is cached too", async () => {
          const before = asked("alice");
          assert.deepEqual(await logins([["alice", CHANGED], ["alice", CHANGED]]), ["failed", "failed"]);
          assert.equal(asked("alice") - before, 1);
        });

        await t.step("a per-user flush through the admin API makes the next login ask again", async () => {
          const res = await fetch(`${proxy.adminUrl}/auth-cache/flush?user=alice`, { method: "POST" });
          assert.equal(res.status, 200);
          assert.equal((await res.json()).flushed, 2);
          const before = asked("alice");
          assert.deepEqual(await logins([["alice", "alicepass"], ["alice", "alicepass"]]), ["ok", "ok"]);
          assert.equal(asked("alice") - before, 1);
        });

        await t.step("Auth-Cache: no keeps a reply out of the cache", async () => {
          auth.script((h) =>
            h["Auth-User"] === "bob" && h["Auth-Pass"] === "bobpass"
              ? {
                "Auth-Status": "OK",
                "Auth-Server": "127.0.0.1",
                "Auth-Port": String(dovecot.imapPort),
                "Auth-Cache": "no",
              }
              : undefined
          );
          try {
            const before = asked("bob");
            assert.deepEqual(await logins(Array(3).fill(["bob", "bobpass"])), Array(3).fill("ok"));
            assert.equal(asked("bob") - before, 3);
          } finally {
            auth.script(undefined);
          }
        });

        await t.step("CRAM-MD5 is never cached", async () => {
          const before = asked("alice");
          assert.deepEqual(await logins([["alice", "alicepass", "cram"], ["alice", "alicepass", "cram"]]), [
            "ok",
            "ok",
          ]);
          assert.equal(asked("alice") - before, 2);
        });

        await t.step("no password in the log or the metrics", async () => {
          const text = proxy.logs() + await metricsText(proxy.adminUrl);
          assert.deepEqual(findSecrets(text, ["alicepass", "bobpass", CHANGED]), []);
        });
      } finally {
        await proxy.stop();
      }
    },
  });
}
