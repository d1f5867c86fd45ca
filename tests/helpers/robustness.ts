/**
 * Pieces the hostile-input, fault, access and soak tests share: a recording fake
 * IMAP backend with fault modes, a recording fake ManageSieve backend, process figures from /proc, metric lookup, and the
 * secret scan.
 * @module
 */

import { Buffer } from "node:buffer";
import { readdirSync, readFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";

/** How the fake backend misbehaves. */
export type BackendMode =
  /** Greets, accepts any LOGIN, answers commands; `FETCH n` streams n bytes. */
  | "normal"
  /** Accepts the connection and never says anything. */
  | "silent"
  /** Greets, then closes as soon as the LOGIN command arrives. */
  | "close-on-login"
  /** Logs in, then resets the connection (RST) on the first command after login. */
  | "reset-after-login"
  /** Refuses LOGIN with a NO that echoes the credentials it got (a leaky backend). */
  | "reject-login";

/** A fake IMAP server on 127.0.0.1 that records every byte it receives. */
export interface FakeImapBackend {
  port: number;
  /** Bytes received per connection (latin1), in connection order. */
  transcripts: string[];
  /** Connections currently open. */
  readonly open: number;
  /** Bytes written by FETCH streams so far. */
  readonly streamed: number;
  stop(): Promise<void>;
}

/** Starts a fake IMAP backend in `mode`. */
export async function startFakeImapBackend(mode: BackendMode = "normal"): Promise<FakeImapBackend> {
  const transcripts: string[] = [];
  const sockets = new Set<Socket>();
  let streamed = 0;
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    const index = transcripts.push("") - 1;
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    if (mode === "silent") {
      socket.on("data", (d: Buffer) => (transcripts[index] += d.toString("latin1")));
      return;
    }
    socket.write("* OK [CAPABILITY IMAP4rev1] fake backend ready\r\n");
    let buffer = "";
    let literal = 0;
    let command = "";
    let loggedIn = false;
    let busy = false;
    const handle = async (line: string) => {
      const [tag, verb = "", arg = ""] = line.split(" ");
      const upper = verb.toUpperCase();
      if (upper === "LOGIN") {
        if (mode === "close-on-login") return void socket.destroy();
        if (mode === "reject-login") {
          return void socket.write(
            `${tag} NO [AUTHENTICATIONFAILED] refused ${line.split(" ").slice(2).join(" ")}\r\n`,
          );
        }
        loggedIn = true;
        socket.write(`${tag} OK LOGIN completed\r\n`);
      } else if (loggedIn && mode === "reset-after-login") {
        (socket as Socket & { resetAndDestroy?: () => void }).resetAndDestroy?.() ?? socket.destroy();
      } else if (upper === "FETCH") {
        busy = true;
        const total = Number(arg) || 0;
        socket.write(`* 1 FETCH (BODY[] {${total}}\r\n`);
        const chunk = Buffer.alloc(64 * 1024, "x");
        let left = total;
        while (left > 0 && !socket.destroyed) {
          const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
          left -= piece.length;
          streamed += piece.length;
          // Wait until each piece is flushed (its write callback), not for 'drain': a 'drain'
          // missed under load once left this fake backend, and the test, waiting forever.
          await new Promise<void>((resolve) => {
            const closed = () => resolve();
            socket.once("close", closed);
            socket.write(piece, () => {
              socket.off("close", closed);
              resolve();
            });
          });
        }
        if (!socket.destroyed) socket.write(`)\r\n${tag} OK FETCH completed\r\n`);
        busy = false;
      } else if (upper === "LOGOUT") {
        socket.end(`* BYE\r\n${tag} OK LOGOUT completed\r\n`);
      } else {
        socket.write(`${tag} OK ${upper || "NOOP"} completed\r\n`);
      }
    };
    socket.on("data", (d: Buffer) => {
      const text = d.toString("latin1");
      transcripts[index] += text;
      buffer += text;
      while (buffer.length > 0 && !busy) {
        if (literal > 0) {
          const take = Math.min(literal, buffer.length);
          command += buffer.slice(0, take);
          buffer = buffer.slice(take);
          literal -= take;
          continue;
        }
        const eol = buffer.indexOf("\r\n");
        if (eol < 0) break;
        const line = buffer.slice(0, eol);
        buffer = buffer.slice(eol + 2);
        const m = /\{(\d+)(\+?)\}$/.exec(line);
        if (m) {
          command += line.slice(0, m.index);
          literal = Number(m[1]);
          if (m[2] === "") socket.write("+ go ahead\r\n");
          continue;
        }
        const full = command + line;
        command = "";
        handle(full);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    port,
    transcripts,
    get open() {
      return sockets.size;
    },
    get streamed() {
      return streamed;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Resident set size of a process in KiB (VmRSS in /proc/<pid>/status). */
export function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

/** Open file descriptors of a process (entries of /proc/<pid>/fd). */
export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** The admin API's /metrics text. */
export async function metricsText(adminUrl: string): Promise<string> {
  const res = await fetch(`${adminUrl}/metrics`);
  return await res.text();
}

/** Sum of the samples of `name` whose labels include every `labels` pair. */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? ([0-9.eE+-]+|NaN)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = m[2] ?? "";
    if (Object.entries(labels).every(([k, v]) => have.includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}

/**
 * Where any of `secrets` occurs in `text`, raw or in the encodings a log might use
 * (base64, %XX, JSON escapes). Empty when clean.
 */
export function findSecrets(text: string, secrets: readonly string[]): string[] {
  const hits: string[] = [];
  for (const secret of secrets) {
    const forms = new Set([
      secret,
      btoa(secret),
      encodeURIComponent(secret),
      JSON.stringify(secret).slice(1, -1),
    ]);
    for (const form of forms) {
      const at = text.indexOf(form);
      if (at >= 0) {
        hits.push(
          `"${secret}" as "${form}" in: ${JSON.stringify(text.slice(Math.max(0, at - 80), at + 80))}`,
        );
      }
    }
  }
  return hits;
}

/** Waits until `logs()` matches `pattern` (log sinks may flush a little later); false after `ms`. */
export async function waitForLog(logs: () => string, pattern: RegExp, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!pattern.test(logs())) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

/** Sleeps `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A line-based fake backend (POP3 or SMTP) for load tests; counts connections it served. */
export interface FakeLineBackend {
  port: number;
  readonly connections: number;
  readonly open: number;
  stop(): Promise<void>;
}

/**
 * Starts a fake POP3 (`+OK` to everything, RETR sends a small message) or SMTP
 * (EHLO with XCLIENT, DATA until the dot) backend on 127.0.0.1.
 */
export async function startFakeLineBackend(protocol: "pop3" | "smtp"): Promise<FakeLineBackend> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((socket) => {
    sockets.add(socket);
    connections++;
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    socket.write(protocol === "pop3" ? "+OK fake POP3 ready\r\n" : "220 fake ESMTP ready\r\n");
    let buffer = "";
    let inData = false;
    socket.on("data", (d: Buffer) => {
      buffer += d.toString("latin1");
      while (true) {
        if (inData) {
          const end = buffer.indexOf("\r\n.\r\n");
          if (end < 0) {
            // Keep only a tail that may hold the start of the terminator.
            buffer = buffer.slice(-4);
            return;
          }
          buffer = buffer.slice(end + 5);
          inData = false;
          socket.write("250 2.0.0 queued\r\n");
          continue;
        }
        const eol = buffer.indexOf("\r\n");
        if (eol < 0) return;
        const line = buffer.slice(0, eol);
        buffer = buffer.slice(eol + 2);
        const verb = line.split(" ")[0].toUpperCase();
        if (protocol === "pop3") {
          if (verb === "QUIT") socket.end("+OK bye\r\n");
          else if (verb === "RETR") {
            socket.write(`+OK message\r\nSubject: soak\r\n\r\n${"body line\r\n".repeat(200)}.\r\n`);
          } else socket.write("+OK\r\n");
        } else if (verb === "EHLO") {
          socket.write("250-fake\r\n250-XCLIENT ADDR LOGIN NAME\r\n250 8BITMIME\r\n");
        } else if (verb === "XCLIENT") socket.write("220 fake ESMTP ready\r\n");
        else if (verb === "DATA") {
          inData = true;
          socket.write("354 go ahead\r\n");
        } else if (verb === "QUIT") socket.end("221 2.0.0 bye\r\n");
        else socket.write("250 2.0.0 ok\r\n");
      }
    });
  });
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : 0,
    get connections() {
      return connections;
    },
    get open() {
      return sockets.size;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A fake ManageSieve server on 127.0.0.1 that records every byte it receives. */
export interface FakeSieveBackend {
  port: number;
  /** Bytes received per connection (latin1), in connection order. */
  transcripts: string[];
  stop(): Promise<void>;
}

/**
 * Starts a fake ManageSieve backend: a capability greeting, `AUTHENTICATE "PLAIN"` with
 * an initial response accepted for `users` (NO otherwise), then `OK` to every line
 * (literals are not interpreted: enough for recording what the proxy forwards).
 */
export async function startFakeSieveBackend(users: Record<string, string>): Promise<FakeSieveBackend> {
  const transcripts: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    const index = transcripts.push("") - 1;
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    socket.write(
      '"IMPLEMENTATION" "fake"\r\n"SASL" "PLAIN"\r\n"SIEVE" "fileinto"\r\n"VERSION" "1.0"\r\nOK "fake ready"\r\n',
    );
    let buffer = "";
    socket.on("data", (d: Buffer) => {
      const text = d.toString("latin1");
      transcripts[index] += text;
      buffer += text;
      for (let eol = buffer.indexOf("\r\n"); eol >= 0; eol = buffer.indexOf("\r\n")) {
        const line = buffer.slice(0, eol);
        buffer = buffer.slice(eol + 2);
        const auth = /^AUTHENTICATE "PLAIN" "([A-Za-z0-9+/=]*)"$/i.exec(line);
        if (auth) {
          const [, user, pass] = Buffer.from(auth[1], "base64").toString("latin1").split("\0");
          socket.write(users[user] === pass ? 'OK "Logged in."\r\n' : 'NO "Authentication failed."\r\n');
        } else if (/^LOGOUT$/i.test(line)) socket.end('OK "Logout completed."\r\n');
        else socket.write(`OK "fake: ${line.slice(0, 20).replace(/["\\]/g, "")}"\r\n`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : 0,
    transcripts,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
