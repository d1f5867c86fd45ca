/**
 * `[login_limits]` end to end: real Dovecot behind mailproxy (Deno and Bun), logins by
 * Python imaplib bound to different loopback source addresses (127.0.0.2 the attacker,
 * 127.0.0.3 the owner …). Checks: failures of one network block it (and blocked
 * attempts never reach the auth service); distinct wrong passwords block the user but
 * not the owner's known network; one stale password repeated does not block; an exempt
 * network is never blocked; the admin API lists and lifts blocks; no password reaches
 * the log, the metrics or the admin API.
 */

import assert from "node:assert/strict";
import { python } from "./helpers/run.ts";
import { startProxy } from "./helpers/proxy_process.ts";
import { findSecrets, metricsText, metricSum } from "./helpers/robustness.ts";
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

/**
 * Logs in once per `[source, user, password]` (one connection each, in order) and prints
 * one word per attempt: `ok`, `failed`, or the server's reply text for a temporary failure.
 */
const LOGINS = `
import imaplib, json, socket, sys
port = int(sys.argv[1])
class From(imaplib.IMAP4):
    def __init__(self, source):
        self.source = source
        super().__init__("127.0.0.1", port, timeout=20)
    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout, source_address=(self.source, 0))
out = []
for source, user, password in json.loads(sys.argv[2]):
    try:
        c = From(source)
    except Exception as e:
        out.append("connect:" + str(e)); continue
    try:
        c.login(user, password)
        out.append("ok")
        c.logout()
    except imaplib.IMAP4.error as e:
        text = str(e)
        out.append("blocked" if "Too many failed logins" in text else "failed:" + text)
    except Exception as e:
        out.append("closed:" + str(e))
print(json.dumps(out))
`;

const WRONG = ["guess-one-7f3a", "guess-two-8b4c", "guess-three-9d5e", "guess-four-1e6f", "guess-five-2a7b"];

for (const runtime of RUNTIMES) {
  Deno.test({
    name: `login_limits with Dovecot on ${runtime}`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      const { auth } = await lab();
      const port = await freePort();
      const proxy = await startProxy(
        runtime,
        `
auth_http = "${auth.url}"

[login_limits]
ip = { failures = 5, window = "10m", block = "15m" }
user = { failures = 5, window = "1h", block = "15m" }
delay = ["10ms", "20ms"]
exempt = ["127.0.0.4"]
known_ip = "30d"

[[server]]
listen = "127.0.0.1:${port}"
protocol = "imap"
`,
        [port],
      );
      const logins = async (attempts: [string, string, string][]): Promise<string[]> => {
        const r = await python(LOGINS, String(port), JSON.stringify(attempts));
        assert.equal(r.code, 0, r.stderr);
        return JSON.parse(r.stdout);
      };
      try {
        await t.step("the owner logs in from 127.0.0.3 (the network becomes known)", async () => {
          assert.deepEqual(await logins([["127.0.0.3", "alice", "alicepass"]]), ["ok"]);
        });

        await t.step(
          "five distinct wrong passwords from 127.0.0.2 block that network and alice",
          async () => {
            const got = await logins(WRONG.map((p) => ["127.0.0.2", "alice", p]));
            assert.ok(got.every((g) => g.startsWith("failed:")), JSON.stringify(got));
            const before = auth.requests.length;
            // Even the right password, and another user, from the blocked network: the temporary failure.
            assert.deepEqual(
              await logins([["127.0.0.2", "alice", "alicepass"], ["127.0.0.2", "bob", "bobpass"]]),
              ["blocked", "blocked"],
            );
            assert.equal(auth.requests.length, before, "a blocked login must not reach the auth service");
          },
        );

        await t.step("alice is blocked from an unknown network, not from her known one", async () => {
          assert.deepEqual(
            await logins([["127.0.0.5", "alice", "alicepass"], ["127.0.0.3", "alice", "alicepass"]]),
            ["blocked", "ok"],
          );
        });

        await t.step("one stale password retried from many networks does not block bob", async () => {
          const stale: [string, string, string][] = [6, 7, 8, 9, 10, 11].map((
            n,
          ) => [`127.0.0.${n}`, "bob", "stale"]);
          const got = await logins([...stale, ["127.0.0.12", "bob", "bobpass"]]);
          assert.equal(got.at(-1), "ok", JSON.stringify(got));
        });

        await t.step("an exempt network is never blocked", async () => {
          const many: [string, string, string][] = Array.from(
            { length: 8 },
            (_, i) => ["127.0.0.4", "bob", `x${i}`],
          );
          const got = await logins([...many, ["127.0.0.4", "bob", "bobpass"], [
            "127.0.0.4",
            "alice",
            "alicepass",
          ]]);
          assert.deepEqual(got.slice(-2), ["ok", "ok"], JSON.stringify(got));
        });

        await t.step("the admin API lists the blocks and lifts them", async () => {
          const list = await (await fetch(`${proxy.adminUrl}/limits`)).json();
          const keys = list.entries.filter((e: { blocked_until: string | null }) => e.blocked_until !== null)
            .map((e: { kind: string; key: string }) => `${e.kind}:${e.key}`).sort();
          assert.deepEqual(keys, ["ip:127.0.0.2", "user:alice"]);
          const lifted = await fetch(`${proxy.adminUrl}/limits/ip/127.0.0.2`, { method: "DELETE" });
          assert.equal(lifted.status, 200);
          await lifted.body?.cancel();
          assert.deepEqual(await logins([["127.0.0.2", "bob", "bobpass"]]), ["ok"]);
          const user = await fetch(`${proxy.adminUrl}/limits/user/alice`, { method: "DELETE" });
          assert.equal(user.status, 200);
          await user.body?.cancel();
          assert.deepEqual(await logins([["127.0.0.5", "alice", "alicepass"]]), ["ok"]);
        });

        await t.step(
          "the blocked logins are counted; no password in logs, metrics or the admin API",
          async () => {
            const metrics = await metricsText(proxy.adminUrl);
            assert.equal(metricSum(metrics, "mailproxy_logins_total", { result: "blocked" }), 3);
            const limits = await (await fetch(`${proxy.adminUrl}/limits`)).text();
            const hits = findSecrets(proxy.logs() + metrics + limits, [...WRONG, "alicepass", "bobpass"]);
            assert.deepEqual(hits, []);
            assert.match(proxy.logs(), /client network 127\.0\.0\.2 blocked by login_limits/);
          },
        );
      } finally {
        await proxy.stop();
      }
    },
  });
}
