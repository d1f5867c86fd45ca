/**
 * Loopback port helpers for the lab: pick a free TCP port and wait until a server accepts on one.
 * @module
 */

import { createConnection, createServer } from "node:net";

/**
 * Where freePort() looks: below the kernel's ephemeral range (32768–60999 here), which the
 * many outgoing connections of a parallel test run draw their source ports from — a port the
 * kernel handed out by `bind(0)` could be taken by one of those before the caller binds it
 * (seen in CI: a proxy's admin port "in use"). 20000–30999 stays clear of the demo's fixed
 * ports (1xxxx) and the floor probe's (311xx).
 */
const RANGE = { low: 20000, high: 30999 };
/** Ports this process already handed out, so two callers never get the same one. */
const handedOut = new Set<number>();

/** True when 127.0.0.1:`port` could be bound a moment ago. */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen({ host: "127.0.0.1", port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * Returns a TCP port that was free on 127.0.0.1 a moment ago, picked at random outside the
 * kernel's ephemeral range (see {@link RANGE}). Another process may still take it before the
 * caller binds it, but no outgoing connection will.
 */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < 200; tries++) {
    const port = RANGE.low + Math.floor(Math.random() * (RANGE.high - RANGE.low + 1));
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if (await bindable(port)) return port;
  }
  throw new Error(`freePort: no free port in ${RANGE.low}-${RANGE.high} after 200 tries`);
}

/** `n` distinct free ports. */
export function freePorts(n: number): Promise<number[]> {
  return Promise.all(Array.from({ length: n }, () => freePort()));
}

/** Tries one TCP connect to 127.0.0.1:`port`; resolves true when it was accepted (then closes it). */
export function canConnect(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/**
 * Polls 127.0.0.1:`port` with TCP connects (every 10 ms at first, backing off to 50 ms) until one
 * is accepted. Rejects after `timeoutMs`, or as soon as `abort` (when given) is settled, so a
 * caller can stop waiting when the server process dies.
 */
export async function waitForPort(
  port: number,
  timeoutMs = 5000,
  abort?: Promise<unknown>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let aborted = false;
  let abortReason: unknown;
  abort?.then((value) => {
    aborted = true;
    abortReason = value;
  }, (err) => {
    aborted = true;
    abortReason = err;
  });
  let delay = 10;
  while (true) {
    if (await canConnect(port)) return;
    if (aborted) {
      throw new Error(`waitForPort: gave up on port ${port}: ${String(abortReason)}`);
    }
    if (Date.now() >= deadline) {
      throw new Error(`waitForPort: nothing accepted on 127.0.0.1:${port} within ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 50);
  }
}

/**
 * Connects to 127.0.0.1:`port`, reads the server's first line (greeting, without CRLF) and closes.
 * Rejects on connect errors, on EOF before a line, or after `timeoutMs`.
 */
export function readGreeting(port: number, timeoutMs = 5000, host = "127.0.0.1"): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host, port });
    let data = "";
    const finish = (err: Error | undefined, line?: string) => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(line!);
    };
    const timer = setTimeout(
      () => finish(new Error(`readGreeting: no line from ${host}:${port} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.on("data", (chunk: Uint8Array) => {
      data += new TextDecoder("latin1").decode(chunk);
      const eol = data.indexOf("\n");
      if (eol >= 0) finish(undefined, data.slice(0, eol).replace(/\r$/, ""));
    });
    socket.on(
      "end",
      () =>
        finish(new Error(`readGreeting: EOF from ${host}:${port} before a line: ${JSON.stringify(data)}`)),
    );
    socket.on("error", (err) => finish(err));
  });
}
