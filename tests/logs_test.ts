/**
 * `error_log` with mailproxy as a real process under Deno and Bun: lines go to a file that
 * SIGUSR1 reopens after a rename (as logrotate does), to syslog as RFC 5424 frames over
 * UDP, TCP and a UNIX datagram socket (real receivers in the test), at the mail level and
 * per server (a server's own error_log takes its session lines).
 */

import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePorts } from "./lab/ports.ts";
import { LineClient } from "./helpers/line_client.ts";
import { waitFor } from "./helpers/ops.ts";
import { startProxy } from "./helpers/proxy_process.ts";
import { RUNTIMES } from "./helpers/runtimes.ts";

const read = (path: string) => existsSync(path) ? readFileSync(path, "utf8") : "";

/** Connects, reads the greeting, closes; returns nothing (the proxy logs the session). */
async function touch(port: number): Promise<void> {
  const c = await LineClient.open(port);
  await c.read((text) => text.includes("\r\n"));
  c.close();
}

/** The session ids of "connected to" lines for `port` in `text`. */
function sessionsOn(text: string, port: number): string[] {
  return [
    ...text.matchAll(
      new RegExp(`\\*(\\S+) client 127\\.0\\.0\\.1:\\d+ connected to 127\\.0\\.0\\.1:${port}`, "g"),
    ),
  ]
    .map((m) => m[1]);
}

/** RFC 5424: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG`. */
function frame(pri: number, app: string, port: number): RegExp {
  return new RegExp(
    `^<${pri}>1 \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z \\S+ ${app} \\d+ - - \\*\\S+ client ` +
      `127\\.0\\.0\\.1:\\d+ connected to 127\\.0\\.0\\.1:${port}$`,
  );
}

for (const runtime of RUNTIMES) {
  Deno.test({
    name: `logs (${runtime}): error_log to a file, reopened on SIGUSR1 after a rename`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const dir = mkdtempSync(join(tmpdir(), "mailproxy-logs-"));
      const file = join(dir, "mail.log");
      const [port] = await freePorts(1);
      const proxy = await startProxy(
        runtime,
        `auth_http = "http://127.0.0.1:9/auth"
error_log = "${file} info"
[[server]]
listen = "127.0.0.1:${port}"
protocol = "imap"
`,
        [port],
      );
      try {
        // startProxy's readiness probe was a session too: count from what is there now.
        await touch(port);
        const closed = (text: string) => (text.match(/client closed connection/g) ?? []).length;
        assert.ok(await waitFor(() => closed(read(file)) >= 2), read(file));
        assert.match(read(file), /^\d{4}-\d\d-\d\dT\S+Z info {4}mailproxy \S+ \(\w+ [^)]*\) started/m);
        assert.equal(sessionsOn(proxy.logs(), port).length, 0, "stderr no longer gets the lines");
        const before = sessionsOn(read(file), port);

        renameSync(file, `${file}.1`);
        proxy.signal("SIGUSR1");
        assert.ok(await waitFor(() => /SIGUSR1: log files reopened/.test(read(file))), read(`${file}.1`));
        await touch(port);
        assert.ok(await waitFor(() => sessionsOn(read(file), port).length === 1), read(file));
        const [after] = sessionsOn(read(file), port);
        assert.ok(!before.includes(after));
        assert.deepEqual(sessionsOn(read(`${file}.1`), port), before, "the renamed file gets nothing new");
      } finally {
        await proxy.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  });

  Deno.test({
    name: `logs (${runtime}): syslog over UDP at the mail level, TCP and a file for one server`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const dir = mkdtempSync(join(tmpdir(), "mailproxy-logs-"));
      const udp = createSocket("udp4");
      const datagrams: string[] = [];
      udp.on("message", (m) => datagrams.push(m.toString("utf8")));
      await new Promise<void>((r) => udp.bind(0, "127.0.0.1", r));
      const tcpLines: string[] = [];
      const tcp: Server = createServer((s) => {
        let buffered = "";
        s.on("data", (d) => {
          buffered += d.toString("utf8");
          const lines = buffered.split("\n");
          buffered = lines.pop()!;
          tcpLines.push(...lines);
        });
      });
      await new Promise<void>((r) => tcp.listen(0, "127.0.0.1", r));
      const udpPort = udp.address().port;
      const tcpPort = (tcp.address() as { port: number }).port;
      const [imap, pop3] = await freePorts(2);
      const pop3Log = join(dir, "pop3.log");
      const proxy = await startProxy(
        runtime,
        `auth_http = "http://127.0.0.1:9/auth"
error_log = "syslog:server=127.0.0.1:${udpPort},facility=mail,tag=mproxy info"
[[server]]
listen = "127.0.0.1:${imap}"
protocol = "imap"
[[server]]
listen = "127.0.0.1:${pop3}"
protocol = "pop3"
error_log = ["syslog:server=127.0.0.1:${tcpPort},transport=tcp info", "${pop3Log} info"]
`,
        [imap, pop3],
      );
      try {
        await touch(imap);
        await touch(pop3);
        // mail facility (2) × 8 + info (6) = 22; the default local7 (23) × 8 + 6 = 190.
        assert.ok(
          await waitFor(() => datagrams.some((d) => frame(22, "mproxy", imap).test(d))),
          datagrams.join("\n"),
        );
        assert.ok(
          await waitFor(() => tcpLines.some((l) => frame(190, "mailproxy", pop3).test(l))),
          tcpLines.join("\n"),
        );
        assert.ok(await waitFor(() => sessionsOn(read(pop3Log), pop3).length >= 1), read(pop3Log));
        assert.ok(
          datagrams.some((d) => /^<22>1 .* mproxy \d+ - - mailproxy \S+ .*started/.test(d)),
          datagrams.join("\n"),
        );
        assert.equal(
          datagrams.filter((d) => sessionsOn(d, pop3).length > 0).length,
          0,
          "the pop3 server's own",
        );
        assert.equal(sessionsOn(read(pop3Log), imap).length, 0);
        assert.equal(sessionsOn(proxy.logs(), imap).length + sessionsOn(proxy.logs(), pop3).length, 0);
      } finally {
        await proxy.stop();
        udp.close();
        tcp.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  });

  Deno.test({
    name: `logs (${runtime}): syslog to a UNIX datagram socket (like /dev/log)`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const dir = mkdtempSync(join(tmpdir(), "mailproxy-logs-"));
      const path = join(dir, "log.sock");
      const receiver = Deno.listenDatagram({ transport: "unixpacket", path });
      const received: string[] = [];
      const reading = (async () => {
        try {
          for await (const [data] of receiver) received.push(new TextDecoder().decode(data));
        } catch {
          // Closed at the end of the test.
        }
      })();
      const [port] = await freePorts(1);
      const proxy = await startProxy(
        runtime,
        `auth_http = "http://127.0.0.1:9/auth"
error_log = "syslog:server=unix:${path},facility=daemon,nohostname info"
[[server]]
listen = "127.0.0.1:${port}"
protocol = "imap"
`,
        [port],
      );
      try {
        await touch(port);
        // daemon (3) × 8 + info (6) = 30; nohostname: "-".
        assert.ok(
          await waitFor(() => received.some((d) => frame(30, "mailproxy", port).test(d))),
          received.join("\n"),
        );
        assert.ok(received.some((d) => / - mailproxy \d+ - - /.test(d)), "HOSTNAME is -");
      } finally {
        await proxy.stop();
        receiver.close();
        await reading;
        rmSync(dir, { recursive: true, force: true });
      }
    },
  });
}
