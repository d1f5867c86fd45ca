/**
 * Access control against the real proxy process (Deno and Bun): `access` rules at
 * mail and server level (order matters, first match wins; IPv4, IPv6, UNIX
 * sockets), `max_connections_per_ip`, the polite refusal of each protocol, the log
 * line and the metric — and a refused client never reaches the auth service.
 */

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AuthService, startAuthService } from "./lab/auth_service.ts";
import { freePort } from "./lab/ports.ts";
import { LineClient } from "./helpers/line_client.ts";
import { startProxy } from "./helpers/proxy_process.ts";
import {
  type FakeImapBackend,
  findSecrets,
  metricsText,
  metricSum,
  sleep,
  startFakeImapBackend,
  waitForLog,
} from "./helpers/robustness.ts";
import { RUNTIMES } from "./helpers/runtimes.ts";

const DENIED = "* BYE Access denied\r\n";
const BUSY = "* BYE Too many connections, try again later\r\n";

interface Lab {
  backend: FakeImapBackend;
  auth: AuthService;
}

let labPromise: Promise<Lab> | undefined;
function lab(): Promise<Lab> {
  labPromise ??= (async () => {
    const backend = await startFakeImapBackend("normal");
    const auth = await startAuthService({ backends: { imap: { host: "127.0.0.1", port: backend.port } } });
    return { backend, auth };
  })();
  return labPromise;
}

/** The first line the server sends (and whether it then closed). */
async function firstLine(client: LineClient): Promise<{ line: string; closed: boolean }> {
  const line = await client.read((t) => t.includes("\r\n"), 5000, 5000);
  const closed = /^(\* BYE|-ERR|[45]\d\d )/.test(line) ? await client.waitClosed(3000) : client.closed;
  return { line, closed };
}

/** Connects to a UNIX socket and returns what the server says first. */
function unixFirstLine(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ path });
    let text = "";
    s.on("data", (d: Uint8Array) => (text += new TextDecoder().decode(d)));
    s.on("close", () => resolve(text));
    s.on("error", reject);
    setTimeout(() => s.destroy(), 3000);
  });
}

for (const runtime of RUNTIMES) {
  Deno.test({
    name: `access rules and connection limits on ${runtime}`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      const { auth } = await lab();
      const [denied, allowed, inherited, v6allowed, v6denied, pop3, smtp] = await Promise.all(
        Array.from({ length: 7 }, () => freePort()),
      );
      const dir = mkdtempSync(join(tmpdir(), "mailproxy-access-"));
      const sock = join(dir, "imap.sock");
      const proxy = await startProxy(
        runtime,
        `
auth_http = "${auth.url}"
max_connections_per_ip = 3
# Mail level: inherited by servers without their own rules.
access = [{ allow = "10.0.0.0/8" }, { deny = "all" }]

[[server]]
listen = "127.0.0.1:${denied}"
protocol = "imap"
access = [{ deny = "127.0.0.1" }, { allow = "all" }]

[[server]]
listen = ["127.0.0.1:${allowed}", "unix:${sock}"]
protocol = "imap"
access = [{ allow = "127.0.0.0/8" }, "deny 127.0.0.1", { deny = "unix:" }]

[[server]]
listen = "127.0.0.1:${inherited}"
protocol = "imap"

[[server]]
listen = "[::1]:${v6allowed}"
protocol = "imap"
access = [{ allow = "::1" }, { deny = "all" }]

[[server]]
listen = "[::1]:${v6denied}"
protocol = "imap"
access = [{ deny = "::/0" }, { allow = "all" }]

[[server]]
listen = "127.0.0.1:${pop3}"
protocol = "pop3"
access = [{ deny = "127.0.0.0/8" }]

[[server]]
listen = "127.0.0.1:${smtp}"
protocol = "smtp"
access = [{ deny = "127.0.0.0/8" }]
`,
        [denied, allowed, inherited],
      );
      let adminText = "";
      try {
        await t.step("a denied client gets * BYE and never reaches the auth service", async () => {
          const before = auth.rawRequests.length;
          const c = await LineClient.open(denied);
          c.send("a1 LOGIN alice alicepass\r\n");
          assert.deepEqual(await firstLine(c), { line: DENIED, closed: true });
          c.close();
          await sleep(200);
          assert.equal(auth.rawRequests.length, before, "a denied client reached the auth service");
          assert.ok(await waitForLog(proxy.logs, /refused: access denied by rule "deny 127\.0\.0\.1"/));
        });

        await t.step("rules are checked in order: an earlier allow wins over a later deny", async () => {
          const c = await LineClient.open(allowed);
          try {
            assert.equal((await firstLine(c)).line, "* OK IMAP4 ready\r\n");
            c.send("a1 LOGIN alice alicepass\r\n");
            assert.match(await c.readUntilLine("a1 "), /a1 OK LOGIN completed/);
          } finally {
            c.close();
          }
        });

        await t.step("a server without rules inherits the mail-level ones", async () => {
          const c = await LineClient.open(inherited);
          assert.deepEqual(await firstLine(c), { line: DENIED, closed: true });
          c.close();
          assert.ok(await waitForLog(proxy.logs, /refused: access denied by rule "deny all"/));
        });

        await t.step("UNIX-socket clients match unix:", async () => {
          assert.equal(await unixFirstLine(sock), DENIED);
        });

        await t.step("IPv6 addresses and CIDRs", async () => {
          const ok = await LineClient.open(v6allowed, "::1");
          assert.equal((await firstLine(ok)).line, "* OK IMAP4 ready\r\n");
          ok.close();
          const no = await LineClient.open(v6denied, "::1");
          assert.deepEqual(await firstLine(no), { line: DENIED, closed: true });
          no.close();
        });

        await t.step("POP3 and SMTP clients get their protocol's refusal", async () => {
          const p = await LineClient.open(pop3);
          assert.deepEqual(await firstLine(p), { line: "-ERR Access denied\r\n", closed: true });
          p.close();
          const s = await LineClient.open(smtp);
          const line = await s.read((t) => t.includes("\r\n"), 5000, 5000);
          assert.equal(line, "554 5.7.1 Access denied\r\n");
          assert.ok(await s.waitClosed(3000));
          s.close();
        });

        await t.step(
          "max_connections_per_ip refuses the 4th connection, a freed slot is reused",
          async () => {
            await sleep(300);
            const open = await Promise.all([1, 2, 3].map(() => LineClient.open(allowed)));
            for (const c of open) assert.equal((await firstLine(c)).line, "* OK IMAP4 ready\r\n");
            const extra = await LineClient.open(allowed);
            assert.deepEqual(await firstLine(extra), { line: BUSY, closed: true });
            extra.close();
            // Denied clients are never counted: the denied server still answers with its refusal.
            const deniedAgain = await LineClient.open(denied);
            assert.equal((await firstLine(deniedAgain)).line, DENIED);
            deniedAgain.close();
            open[0].close();
            let line = "";
            for (let i = 0; i < 20 && line !== "* OK IMAP4 ready\r\n"; i++) {
              await sleep(100);
              const again = await LineClient.open(allowed);
              line = (await firstLine(again)).line;
              again.close();
            }
            assert.equal(line, "* OK IMAP4 ready\r\n");
            for (const c of open) c.close();
            assert.ok(await waitForLog(proxy.logs, /refused: too many connections from this address/));
          },
        );

        await t.step("refusals are counted by reason", async () => {
          const metrics = await metricsText(proxy.adminUrl);
          assert.ok(metricSum(metrics, "mailproxy_connections_refused_total", { reason: "access" }) >= 4);
          assert.ok(
            metricSum(metrics, "mailproxy_connections_refused_total", { reason: "max_connections_per_ip" }) >=
              1,
          );
          adminText = metrics + await (await fetch(`${proxy.adminUrl}/status`)).text();
        });
      } finally {
        await proxy.stop();
        rmSync(dir, { recursive: true, force: true });
      }
      assert.deepEqual(findSecrets(proxy.logs() + adminText, ["alicepass"]), []);
    },
  });
}

Deno.test({
  name: "access: stop the lab",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    if (!labPromise) return;
    const { backend, auth } = await labPromise;
    await auth.stop();
    await backend.stop();
  },
});
