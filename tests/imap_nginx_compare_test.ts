/**
 * Side by side with nginx (libnginx-mod-mail): the same IMAP pre-auth transcripts
 * go to nginx and to mailproxy, both in front of the same Dovecot and auth service,
 * and the replies must be identical — except the deliberate divergences listed in
 * the README, which have their own assertions at the end.
 */

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { startAuthService } from "./lab/auth_service.ts";
import { startDovecot } from "./lab/dovecot.ts";
import { startNginxMail } from "./lab/nginx.ts";
import { freePort } from "./lab/ports.ts";
import { startProxy } from "./helpers/proxy_process.ts";
import { runTranscript, type TranscriptStep, visible } from "./helpers/transcript.ts";

const b64 = (s: string) => btoa(s);

/** Transcripts whose replies must be byte-identical. */
const SAME: Record<string, TranscriptStep[]> = {
  "greeting and CAPABILITY": [{ until: "* OK" }, { send: "a1 CAPABILITY\r\n", until: "a1 " }],
  "NOOP then LOGOUT": [{ until: "* OK" }, { send: "n1 NOOP\r\n", until: "n1 " }, {
    send: "n2 LOGOUT\r\n",
    until: "close",
  }],
  "LOGIN ok": [{ until: "* OK" }, { send: "a1 LOGIN alice alicepass\r\n", until: "a1 " }],
  "LOGIN quoted": [{ until: "* OK" }, { send: 'a1 LOGIN "alice" "alicepass"\r\n', until: "a1 " }],
  "LOGIN with literals": [
    { until: "* OK" },
    { send: "a1 LOGIN {5}\r\n", until: "+ " },
    { send: "alice {9}\r\n", until: "+ " },
    { send: "alicepass\r\n", until: "a1 " },
  ],
  "LOGIN failed": [{ until: "* OK" }, { send: "a1 LOGIN alice wrong\r\n", until: "close" }],
  "AUTHENTICATE PLAIN initial response": [
    { until: "* OK" },
    { send: `p1 AUTHENTICATE PLAIN ${b64("\0alice\0alicepass")}\r\n`, until: "p1 " },
  ],
  "AUTHENTICATE PLAIN continuation": [
    { until: "* OK" },
    { send: "p1 AUTHENTICATE PLAIN\r\n", until: "+" },
    { send: `${b64("\0alice\0alicepass")}\r\n`, until: "p1 " },
  ],
  "AUTHENTICATE LOGIN": [
    { until: "* OK" },
    { send: "l1 AUTHENTICATE LOGIN\r\n", until: "+ " },
    { send: `${b64("alice")}\r\n`, until: "+ " },
    { send: `${b64("alicepass")}\r\n`, until: "l1 " },
  ],
  "AUTHENTICATE LOGIN with initial user": [
    { until: "* OK" },
    { send: `l1 AUTHENTICATE LOGIN ${b64("alice")}\r\n`, until: "+ " },
    { send: `${b64("alicepass")}\r\n`, until: "l1 " },
  ],
  "AUTHENTICATE bad base64 and unknown mechanism": [
    { until: "* OK" },
    { send: "b1 AUTHENTICATE PLAIN !!!!\r\n", until: "b1 " },
    { send: "b2 AUTHENTICATE XOAUTH2 abc\r\n", until: "b2 " },
    { send: "b3 AUTHENTICATE EXTERNAL\r\n", until: "b3 " },
    { send: "b4 AUTHENTICATE\r\n", until: "b4 " },
  ],
  "invalid commands": [
    { until: "* OK" },
    { send: "c1 SELECT INBOX\r\n", until: "c1 " },
    { send: "c2 LOGIN onlyuser\r\n", until: "c2 " },
    { send: "c3 STARTTLS\r\n", until: "c3 " },
    { send: "@@@ NOOP\r\n", until: "* BAD" },
  ],
  "max_errors closes after the fifth parser error": [
    { until: "* OK" },
    { send: "e1 FOO\r\n", until: "e1 " },
    { send: "e2 FOO\r\n", until: "e2 " },
    { send: "e3 FOO\r\n", until: "e3 " },
    { send: "e4 FOO\r\n", until: "e4 " },
    { send: "e5 FOO\r\n", until: "close" },
  ],
  "pipelined pre-auth commands": [
    { until: "* OK" },
    { send: "a1 NOOP\r\na2 CAPABILITY\r\na3 LOGIN alice alicepass\r\na4 SELECT INBOX\r\n", until: "a4 " },
  ],
  "too long command": [{ until: "* OK" }, { send: `t1 LOGIN ${"x".repeat(5000)} y\r\n`, until: "close" }],
};

/** Post-login replies are Dovecot's; only its command timings differ between two runs. */
function normalise(text: string): string {
  return text.replace(/\(\d+\.\d+(?: \+ \d+\.\d+)* secs\)/g, "(T secs)");
}

Deno.test({
  name: "imap pre-auth dialogue is identical to nginx's",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const dovecot = await startDovecot();
    const auth = await startAuthService({
      backends: { imap: { host: "127.0.0.1", port: dovecot.imapPort } },
    });
    const nginx = await startNginxMail({
      authHttp: auth.url,
      mailLevel: "server_name mail.test;",
      servers: `server { listen 127.0.0.1:{{port:imap}}; protocol imap; imap_auth plain login cram-md5; }`,
    });
    const ours = await freePort();
    const proxy = await startProxy(
      "deno",
      `server_name = "mail.test"
auth_http = "${auth.url}"
[[server]]
listen = "127.0.0.1:${ours}"
protocol = "imap"
imap_auth = ["plain", "login", "cram-md5"]
`,
      [ours],
    );
    try {
      for (const [name, steps] of Object.entries(SAME)) {
        await t.step(name, async () => {
          const theirs = await runTranscript(nginx.ports.imap, steps);
          const mine = await runTranscript(ours, steps);
          assert.deepEqual(
            mine.replies.map(normalise).map(visible),
            theirs.replies.map(normalise).map(visible),
          );
          assert.equal(mine.closed, theirs.closed, "both close (or both stay open)");
        });
      }

      await t.step("AUTHENTICATE CRAM-MD5: salt of the same form, same outcome", async () => {
        const results = [];
        for (const port of [nginx.ports.imap, ours]) {
          const first = await runTranscript(port, [{ until: "* OK" }, {
            send: "m1 AUTHENTICATE CRAM-MD5\r\n",
            until: "+ ",
          }]);
          const challenge = atob(first.replies[1].slice(2).trim());
          assert.match(challenge, /^<\d+\.\d+@mail\.test>$/);
          // A second connection cannot reuse the salt, so answer within one connection.
          const { LineClient } = await import("./helpers/line_client.ts");
          const c = await LineClient.open(port);
          try {
            await c.readUntilLine("* OK");
            c.send("m1 AUTHENTICATE CRAM-MD5\r\n");
            const line = await c.readUntilLine("+ ");
            const salt = atob(line.slice(2).trim());
            const digest = createHmac("md5", "alicepass").update(salt).digest("hex");
            c.send(`${b64(`alice ${digest}`)}\r\n`);
            results.push(await c.readUntilLine("m1 "));
          } finally {
            c.close();
          }
        }
        assert.equal(results[1], results[0]);
        assert.match(results[0], /^m1 OK/m);
      });

      await t.step("auth_http requests carry the same headers in the same order", () => {
        const names = (raw: string) =>
          raw.split("\r\n").slice(1).filter((l) => l).map((l) => l.slice(0, l.indexOf(":")));
        const nginxReq = auth.rawRequests.find((r) =>
          r.includes("Auth-User: alice") && !r.includes("Auth-Salt")
        )!;
        const nginxIndex = auth.rawRequests.indexOf(nginxReq);
        const ourReq = auth.rawRequests.slice(nginxIndex + 1).find((r) =>
          r.includes("Auth-User: alice") && !r.includes("Auth-Salt")
        )!;
        assert.deepEqual(names(ourReq), names(nginxReq));
      });

      // Deliberate divergences (README "Differences from nginx"): asserted so they stay deliberate.
      await t.step("divergence: CR/LF smuggled into a LOGIN literal is refused", async () => {
        const steps: TranscriptStep[] = [
          { until: "* OK" },
          { send: "a1 LOGIN {5}\r\n", until: "+ " },
          { send: "alice {11}\r\n", until: "+ " },
          { send: "pass\r\nx1 NO\r\n", until: "a1 " },
        ];
        const mine = await runTranscript(ours, steps);
        assert.equal(mine.replies[3], "a1 BAD invalid command\r\n");
      });
    } finally {
      await proxy.stop();
      await nginx.stop();
      await auth.stop();
      await dovecot.stop();
    }
  },
});
