/**
 * Side by side with nginx (libnginx-mod-mail): the same POP3 pre-auth transcripts go
 * to nginx and to mailproxy, both in front of the same Dovecot and auth service, and
 * the replies must be identical — except the deliberate divergences listed in the
 * README, which have their own assertions at the end. The APOP salt differs per
 * connection, so greetings are compared by form and APOP/CRAM-MD5 are answered live.
 */

import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { startAuthService } from "./lab/auth_service.ts";
import { startDovecot } from "./lab/dovecot.ts";
import { startNginxMail } from "./lab/nginx.ts";
import { freePort } from "./lab/ports.ts";
import { LineClient } from "./helpers/line_client.ts";
import { startProxy } from "./helpers/proxy_process.ts";
import { runTranscript, type TranscriptStep, visible } from "./helpers/transcript.ts";

const b64 = (s: string) => btoa(s);
const GREETING: TranscriptStep = { until: "+OK" };
const SALT = /<\d+\.\d+@mail\.test>/g;

/** Transcripts whose replies must be byte-identical (after the salt is normalised). */
const SAME: Record<string, TranscriptStep[]> = {
  "greeting, CAPA, NOOP, QUIT": [
    GREETING,
    { send: "CAPA\r\n", until: "." },
    { send: "NOOP\r\n", until: "+OK" },
    { send: "QUIT\r\n", until: "close" },
  ],
  "USER/PASS ok, then the backend": [
    GREETING,
    { send: "USER alice\r\n", until: "+OK" },
    { send: "PASS alicepass\r\n", until: "+OK" },
    { send: "STAT\r\n", until: "+OK" },
    { send: "QUIT\r\n", until: "close" },
  ],
  "USER/PASS failed": [GREETING, { send: "USER alice\r\n", until: "+OK" }, {
    send: "PASS wrong\r\n",
    until: "close",
  }],
  "USER with spaces keeps them": [GREETING, { send: "USER  a b \r\n", until: "+OK" }, {
    send: "PASS p w\r\n",
    until: "close",
  }],
  "the USER state": [
    GREETING,
    { send: "USER alice\r\n", until: "+OK" },
    { send: "CAPA\r\n", until: "." },
    { send: "NOOP\r\n", until: "+OK" },
    { send: "STAT\r\n", until: "-ERR" },
    { send: "PASS alicepass\r\n", until: "-ERR" },
    { send: "USER alice\r\n", until: "+OK" },
    { send: "USER bob\r\n", until: "-ERR" },
    { send: "QUIT\r\n", until: "close" },
  ],
  "AUTH lists the mechanisms": [GREETING, { send: "AUTH\r\n", until: "." }],
  "AUTH PLAIN initial response": [GREETING, {
    send: `AUTH PLAIN ${b64("\0alice\0alicepass")}\r\n`,
    until: "+OK",
  }],
  "AUTH PLAIN continuation (extra tokens ignored)": [
    GREETING,
    { send: "auth plain\r\n", until: "+" },
    { send: `${b64("\0alice\0alicepass")} extra\r\n`, until: "+OK" },
  ],
  "AUTH LOGIN": [
    GREETING,
    { send: "AUTH LOGIN\r\n", until: "+ " },
    { send: `${b64("alice")}\r\n`, until: "+ " },
    { send: `${b64("alicepass")}\r\n`, until: "+OK" },
  ],
  "AUTH LOGIN with initial user": [
    GREETING,
    { send: `AUTH LOGIN ${b64("alice")}\r\n`, until: "+ " },
    { send: `${b64("alicepass")}\r\n`, until: "+OK" },
  ],
  "AUTH PLAIN failed": [GREETING, { send: `AUTH PLAIN ${b64("\0alice\0nope")}\r\n`, until: "close" }],
  "invalid commands": [
    GREETING,
    { send: "STAT\r\n", until: "-ERR" },
    { send: "LIST 1\r\n", until: "-ERR" },
    { send: "PASS x\r\n", until: "-ERR" },
    { send: "USER\r\n", until: "-ERR" },
    { send: "APOP alice\r\n", until: "-ERR" },
    { send: "AUTH XOAUTH2 abc\r\n", until: "-ERR" },
    { send: "AUTH PLAIN !!!!\r\n", until: "-ERR" },
    { send: "AUTH PLAIN a b\r\n", until: "-ERR" },
    { send: "AUTH EXTERNAL\r\n", until: "-ERR" },
    { send: "AUTH CRAM-MD5 x\r\n", until: "-ERR" },
    { send: "STLS\r\n", until: "-ERR" },
    { send: "NOOP\r\n", until: "+OK" },
  ],
  "SASL errors go back to the start state": [
    GREETING,
    { send: "AUTH LOGIN\r\n", until: "+ " },
    { send: "*\r\n", until: "-ERR" },
    { send: "AUTH PLAIN\r\n", until: "+" },
    { send: `${b64("no nul")}\r\n`, until: "-ERR" },
    { send: "AUTH PLAIN\r\n", until: "+" },
    { send: "a b c d\r\n", until: "-ERR" },
    { send: "NOOP\r\n", until: "+OK" },
  ],
  "bad lines: empty, bare CR, leading space, lower case and bare LF": [
    GREETING,
    { send: "\r\n", until: "-ERR" },
    { send: "NOOP\rX\r\n", until: "-ERR" },
    { send: " NOOP\r\n", until: "-ERR" },
    { send: "noop\nuser alice\npass alicepass\n", until: "+OK Logged" },
  ],
  "max_errors closes after the fifth parser error": [
    GREETING,
    { send: "XXXX\r\n", until: "-ERR" },
    { send: "RETR 1\r\n", until: "-ERR" },
    { send: "USERS a\r\n", until: "-ERR" },
    { send: "AUTH a b c d\r\n", until: "-ERR" },
    { send: "DELE 1\r\n", until: "close" },
  ],
  "pipelined pre-auth commands, the rest relayed after login": [
    GREETING,
    { send: "CAPA\r\nNOOP\r\nUSER alice\r\nPASS alicepass\r\nSTAT\r\nQUIT\r\n", until: "close" },
  ],
};

function normalise(text: string): string {
  return text.replace(SALT, "<SALT>");
}

/** Logs in with APOP or CRAM-MD5 on one connection (the salt is per connection); returns the replies. */
async function challengeLogin(port: number, method: "apop" | "cram-md5"): Promise<string[]> {
  const c = await LineClient.open(port);
  try {
    const greeting = await c.readUntilLine("+OK");
    const replies = [normalise(greeting)];
    if (method === "apop") {
      const salt = greeting.match(SALT)![0];
      c.send(`APOP alice ${createHash("md5").update(salt + "alicepass").digest("hex")}\r\n`);
    } else {
      c.send("AUTH CRAM-MD5\r\n");
      const line = await c.readUntilLine("+ ");
      const salt = atob(line.slice(2).trim());
      assert.equal(salt, greeting.match(SALT)![0], "the CRAM-MD5 challenge is the greeting's salt");
      replies.push(normalise(`+ ${salt}\r\n`));
      c.send(`${b64(`alice ${createHmac("md5", "alicepass").update(salt).digest("hex")}`)}\r\n`);
    }
    replies.push(await c.readUntilLine("+OK"));
    c.send("QUIT\r\n");
    replies.push(await c.read(() => false, 500));
    return replies;
  } finally {
    c.close();
  }
}

Deno.test({
  name: "pop3 pre-auth dialogue is identical to nginx's",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const dovecot = await startDovecot();
    dovecot.addMessage("alice", "Subject: one\r\n\r\nfirst\r\n");
    const auth = await startAuthService({
      backends: { pop3: { host: "127.0.0.1", port: dovecot.pop3Port } },
    });
    const nginx = await startNginxMail({
      authHttp: auth.url,
      mailLevel: "server_name mail.test;",
      servers: `server { listen 127.0.0.1:{{port:pop3}}; protocol pop3; pop3_auth plain apop cram-md5; }`,
    });
    const ours = await freePort();
    const proxy = await startProxy(
      "deno",
      `server_name = "mail.test"
auth_http = "${auth.url}"
[[server]]
listen = "127.0.0.1:${ours}"
protocol = "pop3"
pop3_auth = ["plain", "apop", "cram-md5"]
`,
      [ours],
    );
    const both = async (steps: TranscriptStep[]) => ({
      theirs: await runTranscript(nginx.ports.pop3, steps),
      mine: await runTranscript(ours, steps),
    });
    try {
      await t.step("greeting: same text, a salt of the same form", async () => {
        const { theirs, mine } = await both([GREETING]);
        for (const r of [theirs, mine]) {
          assert.match(r.replies[0], /^\+OK POP3 ready <\d+\.\d+@mail\.test>\r\n$/);
        }
      });

      for (const [name, steps] of Object.entries(SAME)) {
        await t.step(name, async () => {
          const { theirs, mine } = await both(steps);
          assert.deepEqual(
            mine.replies.map(normalise).map(visible),
            theirs.replies.map(normalise).map(visible),
          );
          assert.equal(mine.closed, theirs.closed, "both close (or both stay open)");
        });
      }

      for (const method of ["apop", "cram-md5"] as const) {
        await t.step(`${method.toUpperCase()} with the connection's salt: same replies`, async () => {
          const theirs = await challengeLogin(nginx.ports.pop3, method);
          const mine = await challengeLogin(ours, method);
          assert.deepEqual(mine.map(visible), theirs.map(visible));
          assert.match(mine[mine.length - 2], /^\+OK Logged in/);
        });
      }

      await t.step("auth_http requests carry the same headers in the same order", () => {
        const names = (raw: string) =>
          raw.split("\r\n").slice(1).filter((l) => l).map((l) => l.slice(0, l.indexOf(":")));
        for (const method of ["plain", "apop", "cram-md5"]) {
          const reqs = auth.rawRequests.filter((r) =>
            r.includes("Auth-User: alice") && r.includes(`Auth-Method: ${method}\r\n`)
          );
          // Each transcript ran against nginx first, then against mailproxy.
          assert.ok(reqs.length >= 2, method);
          assert.deepEqual(names(reqs[1]), names(reqs[0]), method);
        }
      });

      // Deliberate divergences (README "Differences from nginx"): asserted so they stay deliberate.
      await t.step("divergence: a 200-byte command fits pop3_client_buffer (nginx: 128 bytes)", async () => {
        const { theirs, mine } = await both([GREETING, {
          send: `USER ${"x".repeat(200)}\r\n`,
          until: "quiet",
        }]);
        assert.equal(theirs.replies[1], "-ERR invalid command\r\n");
        assert.equal(theirs.closed, true);
        assert.equal(mine.replies[1], "+OK\r\n");
        assert.equal(mine.closed, false);
      });

      await t.step("divergence: CR/LF hidden in AUTH PLAIN is refused before the auth server", async () => {
        const steps = [GREETING, { send: `AUTH PLAIN ${b64("\0alice\0alicepass\r\nDELE 1")}\r\n` }];
        const { theirs, mine } = await both(steps);
        assert.equal(theirs.replies[1], "-ERR Invalid login or password\r\n", "nginx asks the auth server");
        assert.equal(mine.replies[1], "-ERR invalid command\r\n");
        assert.equal(mine.closed, false);
      });

      await t.step("divergence: a NUL byte in USER is refused", async () => {
        const { theirs, mine } = await both([GREETING, { send: "USER ali\0ce\r\n" }]);
        assert.equal(theirs.replies[1], "+OK\r\n");
        assert.equal(mine.replies[1], "-ERR invalid command\r\n");
      });

      await t.step(
        "divergence: AUTH EXTERNAL with an initial response needs external in pop3_auth",
        async () => {
          const { theirs, mine } = await both([GREETING, { send: `AUTH EXTERNAL ${b64("alice")}\r\n` }]);
          assert.match(theirs.replies[1], /^\+OK Logged in/, "nginx logs in without external enabled");
          assert.equal(mine.replies[1], "-ERR invalid command\r\n");
        },
      );
    } finally {
      await proxy.stop();
      await nginx.stop();
      await auth.stop();
      await dovecot.stop();
    }
  },
});
