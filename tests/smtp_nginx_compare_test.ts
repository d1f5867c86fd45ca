/**
 * Side by side with nginx (libnginx-mod-mail): the same SMTP transcripts go to nginx and to
 * mailproxy, both in front of the same auth service and a small recording SMTP backend, and the
 * client-visible replies must be identical, and so must the lines the backend receives (EHLO,
 * XCLIENT, the client's HELO/EHLO replay, MAIL/RCPT). Deliberate divergences (README
 * "Differences from nginx") have their own assertions at the end.
 */

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { startAuthService } from "./lab/auth_service.ts";
import { startNginxMail } from "./lab/nginx.ts";
import { freePort } from "./lab/ports.ts";
import { LineClient } from "./helpers/line_client.ts";
import { startProxy } from "./helpers/proxy_process.ts";
import { runTranscript, type TranscriptStep, visible } from "./helpers/transcript.ts";

const b64 = (s: string) => btoa(s);
const ALICE_PLAIN = b64("\0alice\0alicepass");

/** One connection the fake backend saw: every line it received, CRLF removed. */
interface BackendSession {
  lines: string[];
  closed: boolean;
}

/** A recording SMTP server that accepts everything (XCLIENT answered with a fresh greeting, as Postfix does). */
async function startFakeBackend(): Promise<
  { port: number; sessions: BackendSession[]; stop(): Promise<void> }
> {
  const sessions: BackendSession[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    const session: BackendSession = { lines: [], closed: false };
    sessions.push(session);
    let buffer = "";
    socket.on("error", () => {});
    socket.on("close", () => {
      session.closed = true;
      sockets.delete(socket);
    });
    socket.write("220 fake.backend ESMTP\r\n");
    socket.on("data", (d: Uint8Array) => {
      buffer += new TextDecoder("latin1").decode(d);
      let eol: number;
      while ((eol = buffer.indexOf("\r\n")) >= 0) {
        const line = buffer.slice(0, eol);
        buffer = buffer.slice(eol + 2);
        session.lines.push(line);
        const verb = line.split(" ")[0].toUpperCase();
        const reply = verb === "EHLO"
          ? "250-fake.backend\r\n250-PIPELINING\r\n250 XCLIENT ADDR LOGIN NAME\r\n"
          : verb === "HELO"
          ? "250 fake.backend\r\n"
          : verb === "XCLIENT"
          ? "220 fake.backend ESMTP\r\n"
          : verb === "MAIL"
          ? "250 2.1.0 Ok\r\n"
          : verb === "RCPT"
          ? "250 2.1.5 Ok\r\n"
          : verb === "AUTH"
          ? "235 2.7.0 Authentication successful\r\n"
          : verb === "QUIT"
          ? "221 2.0.0 Bye\r\n"
          : "250 2.0.0 Ok\r\n";
        socket.write(reply);
        if (verb === "QUIT") socket.end();
      }
    });
  });
  const port = await new Promise<number>((resolve) =>
    server.listen({ host: "127.0.0.1", port: 0 }, () => resolve((server.address() as { port: number }).port))
  );
  return {
    port,
    sessions,
    stop: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Transcripts against the submission server (plain login cram-md5, two extra EHLO lines). */
const SAME: Record<string, TranscriptStep[]> = {
  "greeting, HELO, EHLO, NOOP, RSET, QUIT": [
    { until: "220" },
    { send: "HELO client.example\r\n", until: "250" },
    { send: "EHLO client.example\r\n", until: "250 " },
    { send: "NOOP\r\n", until: "250" },
    { send: "RSET\r\n", until: "250" },
    { send: "QUIT\r\n", until: "close" },
  ],
  "HELO/EHLO with a wrong argument count": [
    { until: "220" },
    { send: "HELO\r\n", until: "501" },
    { send: "EHLO a b\r\n", until: "501" },
    { send: "ehlo   spaced  \r\n", until: "250 " },
  ],
  "AUTH PLAIN with initial response": [
    { until: "220" },
    { send: "EHLO client.example\r\n", until: "250 " },
    { send: `AUTH PLAIN ${ALICE_PLAIN}\r\n`, until: "235" },
    { send: "QUIT\r\n", until: "close" },
  ],
  "AUTH PLAIN continuation, before any HELO": [
    { until: "220" },
    { send: "AUTH PLAIN\r\n", until: "334" },
    { send: `${ALICE_PLAIN}\r\n`, until: "235" },
    { send: "QUIT\r\n", until: "close" },
  ],
  "AUTH LOGIN after HELO": [
    { until: "220" },
    { send: "HELO old.client\r\n", until: "250" },
    { send: "AUTH LOGIN\r\n", until: "334" },
    { send: `${b64("alice")}\r\n`, until: "334" },
    { send: `${b64("alicepass")}\r\n`, until: "235" },
    { send: "QUIT\r\n", until: "close" },
  ],
  "AUTH LOGIN with initial user": [
    { until: "220" },
    { send: `AUTH LOGIN ${b64("alice")}\r\n`, until: "334" },
    { send: `${b64("alicepass")}\r\n`, until: "235" },
    { send: "QUIT\r\n", until: "close" },
  ],
  "AUTH failed closes": [
    { until: "220" },
    { send: `AUTH PLAIN ${b64("\0alice\0wrong")}\r\n`, until: "close" },
  ],
  "AUTH failed with Auth-Wait and Auth-Error-Code, then the session goes on": [
    { until: "220" },
    { send: `AUTH PLAIN ${b64("\0slowfail\0x")}\r\n`, until: "451" },
    { send: "NOOP\r\n", until: "250" },
    { send: `AUTH PLAIN ${ALICE_PLAIN}\r\n`, until: "235" },
    { send: "QUIT\r\n", until: "close" },
  ],
  "invalid and refused commands": [
    { until: "220" },
    { send: "DATA\r\n", until: "500" },
    { send: "VRFY alice\r\n", until: "500" },
    { send: "EXPN list\r\n", until: "500" },
    { send: "HELP\r\n", until: "500" },
    { send: "STARTTLS\r\n", until: "500" },
    { send: "AUTH\r\n", until: "501" },
    { send: "AUTH XOAUTH2 abc\r\n", until: "500" },
    { send: "AUTH EXTERNAL\r\n", until: "500" },
    { send: "AUTH PLAIN !!!!\r\n", until: "500" },
    { send: "AUTH LOGIN a b\r\n", until: "500" },
    { send: "MAIL FROM:<a@b>\r\n", until: "530" },
    { send: "RCPT TO:<a@b>\r\n", until: "503" },
    { send: "\r\n", until: "500" },
    { send: "NOOP\r\n", until: "250" },
  ],
  "max_errors closes after the fifth parser error": [
    { until: "220" },
    { send: "FOO\r\n", until: "500" },
    { send: "BDAT 10\r\n", until: "500" },
    { send: "VRFY x\r\n", until: "500" },
    { send: "XCLIENT ADDR=1.2.3.4\r\n", until: "500" },
    { send: "x y\r\n", until: "500" },
    { send: "1234\r\n", until: "close" },
  ],
  "pipelined commands, then relayed to the backend": [
    { until: "220" },
    {
      send:
        `EHLO pipe.example\r\nNOOP\r\nAUTH PLAIN ${ALICE_PLAIN}\r\nMAIL FROM:<alice@mail.test>\r\nRCPT TO:<bob@mail.test>\r\n`,
      until: "250 2.1.5",
    },
    { send: "QUIT\r\n", until: "close" },
  ],
  "too long command": [{ until: "220" }, { send: `HELO ${"x".repeat(5000)}\r\n`, until: "close" }],
};

/** Transcripts against the `smtp_auth none` server (MX use). */
const SAME_NONE: Record<string, TranscriptStep[]> = {
  "none: EHLO list without AUTH, MAIL and RCPT relayed": [
    { until: "220" },
    { send: "EHLO sender.example\r\n", until: "250 " },
    { send: "MAIL FROM:<x@sender.example> SIZE=100\r\n", until: "250" },
    { send: "RCPT TO:<alice@mail.test>\r\n", until: "250" },
    { send: "QUIT\r\n", until: "close" },
  ],
  "none: bad sequences and arguments": [
    { until: "220" },
    { send: "RCPT TO:<alice@mail.test>\r\n", until: "503" },
    { send: "MAIL\r\n", until: "501" },
    { send: "MAIL FROM:<a@b>\r\n", until: "250" },
    { send: "MAIL FROM:<c@d>\r\n", until: "503" },
    { send: "RCPT\r\n", until: "501" },
    { send: "RSET\r\n", until: "250" },
    { send: "RCPT TO:<x@y>\r\n", until: "503" },
  ],
  "none without HELO: MAIL follows XCLIENT directly": [
    { until: "220" },
    { send: "MAIL FROM:<a@b>\r\n", until: "250" },
    { send: "RCPT TO:<alice@mail.test>\r\n", until: "250" },
    { send: "QUIT\r\n", until: "close" },
  ],
};

Deno.test({
  name: "smtp pre-auth dialogue and backend dialogue are identical to nginx's",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const backend = await startFakeBackend();
    const auth = await startAuthService({ backends: { smtp: { host: "127.0.0.1", port: backend.port } } });
    const servers = (ports: { smtp: number; none: number; delay: number }, nginx: boolean) =>
      nginx
        ? `server { listen 127.0.0.1:${ports.smtp}; protocol smtp; smtp_auth plain login cram-md5;
             smtp_capabilities "SIZE 1000" 8BITMIME; }
           server { listen 127.0.0.1:${ports.none}; protocol smtp; smtp_auth none; }
           server { listen 127.0.0.1:${ports.delay}; protocol smtp; smtp_greeting_delay 700ms; }`
        : "";
    const nginxPorts = { smtp: await freePort(), none: await freePort(), delay: await freePort() };
    const nginx = await startNginxMail({
      authHttp: auth.url,
      mailLevel: "server_name mail.test;",
      servers: servers(nginxPorts, true),
      ports: Object.values(nginxPorts),
    });
    const ours = { smtp: await freePort(), none: await freePort(), delay: await freePort() };
    const proxy = await startProxy(
      "deno",
      `server_name = "mail.test"
auth_http = "${auth.url}"
[[server]]
listen = "127.0.0.1:${ours.smtp}"
protocol = "smtp"
smtp_auth = ["plain", "login", "cram-md5"]
smtp_capabilities = ["SIZE 1000", "8BITMIME"]
[[server]]
listen = "127.0.0.1:${ours.none}"
protocol = "smtp"
smtp_auth = ["none"]
[[server]]
listen = "127.0.0.1:${ours.delay}"
protocol = "smtp"
smtp_greeting_delay = "700ms"
`,
      Object.values(ours),
    );

    /** Plays `steps` on one port; returns the client's view and the backend's lines of that session. */
    const play = async (port: number, steps: TranscriptStep[]) => {
      const before = backend.sessions.length;
      const client = await runTranscript(port, steps);
      // The proxy closes the backend connection once the client is gone.
      const deadline = Date.now() + 3000;
      while (backend.sessions.slice(before).some((s) => !s.closed) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      return { client, backend: backend.sessions.slice(before).map((s) => s.lines) };
    };

    const compare = async (name: string, steps: TranscriptStep[], theirs: number, mine: number) => {
      await t.step(name, async () => {
        const a = await play(theirs, steps);
        const b = await play(mine, steps);
        assert.deepEqual(b.client.replies.map(visible), a.client.replies.map(visible), "client replies");
        assert.equal(b.client.closed, a.client.closed, "both close (or both stay open)");
        assert.deepEqual(b.backend, a.backend, "lines the backend received");
      });
    };

    try {
      for (const [name, steps] of Object.entries(SAME)) {
        await compare(name, steps, nginxPorts.smtp, ours.smtp);
      }
      for (const [name, steps] of Object.entries(SAME_NONE)) {
        await compare(name, steps, nginxPorts.none, ours.none);
      }
      await compare(
        "greeting delay: a client talking first gets 503",
        [{ send: "EHLO eager.example\r\n", until: "close" }],
        nginxPorts.delay,
        ours.delay,
      );
      await compare(
        "greeting delay: a patient client is greeted",
        [{ until: "220" }, { send: "QUIT\r\n", until: "close" }],
        nginxPorts.delay,
        ours.delay,
      );

      await t.step("the XCLIENT line is nginx's (checked explicitly)", async () => {
        const { backend: lines } = await play(ours.smtp, SAME["AUTH PLAIN with initial response"]);
        assert.deepEqual(lines, [[
          "EHLO mail.test",
          "XCLIENT ADDR=127.0.0.1 LOGIN=alice NAME=[UNAVAILABLE]",
          "EHLO client.example",
          "QUIT",
        ]]);
      });

      await t.step("AUTH CRAM-MD5: salt of the same form, same outcome and backend lines", async () => {
        const results: { reply: string; lines: string[][] }[] = [];
        for (const port of [nginxPorts.smtp, ours.smtp]) {
          const before = backend.sessions.length;
          const c = await LineClient.open(port);
          try {
            await c.readUntilLine("220");
            c.send("AUTH CRAM-MD5\r\n");
            const salt = atob((await c.readUntilLine("334")).slice(4).trim());
            assert.match(salt, /^<\d+\.\d+@mail\.test>$/);
            const digest = createHmac("md5", "alicepass").update(salt).digest("hex");
            c.send(`${b64(`alice ${digest}`)}\r\nQUIT\r\n`);
            const reply = await c.readUntilLine("221");
            await c.waitClosed();
            await new Promise((r) => setTimeout(r, 200));
            results.push({ reply, lines: backend.sessions.slice(before).map((s) => s.lines) });
          } finally {
            c.close();
          }
        }
        assert.deepEqual(results[1], results[0]);
        assert.match(results[0].reply, /^235 2\.0\.0 OK/);
      });

      await t.step("auth_http requests carry the same headers in the same order (plain and none)", () => {
        const names = (raw: string) =>
          raw.split("\r\n").slice(1).filter((l) => l).map((l) => l.slice(0, l.indexOf(":")));
        for (const needle of ["Auth-Method: plain", "Auth-Method: none"]) {
          const reqs = auth.rawRequests.filter((r) =>
            r.includes(needle) && r.includes("Auth-User: alice") === (needle.endsWith("plain"))
          );
          assert.ok(reqs.length >= 2, needle);
          const all = reqs.map(names);
          assert.ok(
            all.every((n) => JSON.stringify(n) === JSON.stringify(all[0])),
            `${needle}: ${JSON.stringify(all)}`,
          );
        }
        const none = auth.requests.filter((h) => h["Auth-Method"] === "none");
        assert.ok(none.length >= 2);
        for (const h of none) assert.equal(h["Client-Host"], "[UNAVAILABLE]");
      });

      // Deliberate divergences (README "Differences from nginx"): asserted so they stay deliberate.
      await t.step(
        "divergence: MAIL under none forgets the login of a failed AUTH (nginx >= 1.29.1)",
        async () => {
          const none2 = await freePort();
          const mixed = await startProxy(
            "deno",
            `server_name = "mail.test"\nauth_http = "${auth.url}"\n[[server]]\nlisten = "127.0.0.1:${none2}"\n` +
              `protocol = "smtp"\nsmtp_auth = ["plain", "none"]\n`,
            [none2],
          );
          try {
            auth.script((h) =>
              h["Auth-Method"] === "plain" ? { "Auth-Status": "Nope", "Auth-Wait": "1" } : undefined
            );
            const before = auth.requests.length;
            await runTranscript(none2, [
              { until: "220" },
              { send: `AUTH PLAIN ${b64("\0mallory\0guess")}\r\n`, until: "535" },
              { send: "MAIL FROM:<a@b>\r\n", until: "250" },
              { send: "RCPT TO:<alice@mail.test>\r\n", until: "250" },
            ]);
            const req = auth.requests.slice(before).find((h) => h["Auth-Method"] === "none")!;
            assert.equal(req["Auth-User"], "");
            assert.equal(req["Auth-Pass"], "");
          } finally {
            auth.script(undefined);
            await mixed.stop();
          }
        },
      );

      await t.step("divergence: XCLIENT LOGIN is xtext-encoded (nginx >= 1.29.2)", async () => {
        auth.script((h) =>
          h["Auth-Method"] === "plain"
            ? { "Auth-Status": "OK", "Auth-Server": "127.0.0.1", "Auth-Port": String(backend.port) }
            : undefined
        );
        try {
          const { backend: lines } = await play(ours.smtp, [
            { until: "220" },
            { send: `AUTH PLAIN ${b64("\0a+b=c d\0x")}\r\n`, until: "235" },
            { send: "QUIT\r\n", until: "close" },
          ]);
          assert.equal(lines[0][1], "XCLIENT ADDR=127.0.0.1 LOGIN=a+2Bb+3Dc+20d NAME=[UNAVAILABLE]");
        } finally {
          auth.script(undefined);
        }
      });
    } finally {
      await proxy.stop();
      await nginx.stop();
      await auth.stop();
      await backend.stop();
    }
  },
});
