import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Buffer } from "node:buffer";
import { HttpAuthProvider, MAX_WAIT_ROUNDS } from "./http_provider.ts";
import type { AuthRequest } from "./types.ts";
import type { AuthHttpUrl } from "../config/types.ts";
import { runtimeTransport } from "../transport/mod.ts";

const transport = await runtimeTransport();

/** A tiny auth_http server: collects each request head, then lets `reply` answer. */
interface FakeAuthServer {
  port: number;
  requests: string[];
  close(): Promise<void>;
}

type Reply = (request: string, index: number, socket: net.Socket) => void;

async function fakeAuthServer(reply: Reply): Promise<FakeAuthServer> {
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let head = "";
    socket.on("data", (data: Buffer) => {
      if (head.endsWith("\r\n\r\n")) return;
      head += data.toString("latin1");
      if (head.endsWith("\r\n\r\n")) {
        requests.push(head);
        reply(head, requests.length - 1, socket);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function answer(text: string): Reply {
  return (_req, _i, socket) => socket.end(text);
}

function url(port: number): AuthHttpUrl {
  return {
    raw: `http://127.0.0.1:${port}/mail/auth`,
    transport: "tcp",
    host: "127.0.0.1",
    port,
    uri: "/mail/auth",
    hostHeader: "127.0.0.1",
  };
}

function provider(port: number, timeoutMs = 5000): HttpAuthProvider {
  return new HttpAuthProvider({ url: url(port), headers: [["X-Key", "k"]], timeoutMs, transport });
}

const REQUEST: AuthRequest = {
  protocol: "imap",
  method: "plain",
  user: "alice",
  pass: "s3cret pw",
  attempt: 3,
  clientIp: "192.0.2.9",
  clientPort: 40000,
  sessionId: "t",
};

const OK_REPLY = "HTTP/1.0 200 OK\r\nAuth-Status: OK\r\nAuth-Server: 127.0.0.1\r\nAuth-Port: 1143\r\n\r\n";

async function withServer(reply: Reply, fn: (s: FakeAuthServer) => Promise<void>): Promise<void> {
  const s = await fakeAuthServer(reply);
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}

Deno.test("http provider: OK reply; request bytes as nginx sends them", async () => {
  await withServer(answer(OK_REPLY), async (s) => {
    const r = await provider(s.port).authenticate(REQUEST);
    assert.deepEqual(r, { status: "ok", server: "127.0.0.1", port: 1143 });
    assert.deepEqual(s.requests, [
      "GET /mail/auth HTTP/1.0\r\nHost: 127.0.0.1\r\nAuth-Method: plain\r\nAuth-User: alice\r\n" +
      "Auth-Pass: s3cret%20pw\r\nAuth-Protocol: imap\r\nAuth-Login-Attempt: 3\r\nClient-IP: 192.0.2.9\r\n" +
      "X-Key: k\r\n\r\n",
    ]);
  });
});

Deno.test("http provider: failure with Auth-Wait is returned (the session does the waiting)", async () => {
  const reply = "HTTP/1.0 200 OK\r\nAuth-Status: Invalid login or password\r\nAuth-Wait: 3\r\n\r\n";
  await withServer(answer(reply), async (s) => {
    const started = Date.now();
    const r = await provider(s.port).authenticate(REQUEST);
    assert.deepEqual(r, { status: "fail", message: "Invalid login or password", wait: 3 });
    assert.ok(Date.now() - started < 1000);
  });
});

Deno.test("http provider: WAIT then OK makes a fresh request with the same attempt", async () => {
  const replies = ["Auth-Status: WAIT\r\nAuth-Wait: 1\r\n\r\n", "Auth-Status: WAIT\r\n\r\n", OK_REPLY];
  await withServer((_req, i, socket) => socket.end(replies[i]), async (s) => {
    const started = Date.now();
    const r = await provider(s.port).authenticate(REQUEST);
    assert.deepEqual(r, { status: "ok", server: "127.0.0.1", port: 1143 });
    assert.equal(s.requests.length, 3);
    assert.ok(s.requests.every((q) => q === s.requests[0]));
    assert.ok(s.requests[0].includes("Auth-Login-Attempt: 3\r\n"));
    assert.ok(Date.now() - started >= 950, "Auth-Wait: 1 waits a second");
  });
});

Deno.test("http provider: endless WAIT gives up after MAX_WAIT_ROUNDS", async () => {
  await withServer(answer("Auth-Status: WAIT\r\nAuth-Wait: 0\r\n\r\n"), async (s) => {
    const r = await provider(s.port).authenticate(REQUEST);
    assert.equal(r.status, "error");
    assert.match((r as { reason: string }).reason, /sent more than 100 WAIT replies/);
    assert.equal(s.requests.length, MAX_WAIT_ROUNDS + 1);
  });
});

Deno.test("http provider: silent server times out within auth_http_timeout", async () => {
  await withServer(() => {}, async (s) => {
    const started = Date.now();
    const r = await provider(s.port, 300).authenticate(REQUEST);
    const took = Date.now() - started;
    assert.deepEqual(r, { status: "error", reason: `auth http server 127.0.0.1:${s.port} timed out` });
    assert.ok(took >= 250 && took < 2000, `took ${took} ms`);
  });
});

Deno.test("http provider: connection closed before the blank line is an error", async () => {
  await withServer(answer("HTTP/1.0 200 OK\r\nAuth-Status: OK\r\nAuth-Server: 127.0.0.1\r\n"), async (s) => {
    const r = await provider(s.port).authenticate(REQUEST);
    assert.deepEqual(r, {
      status: "error",
      reason: `auth http server 127.0.0.1:${s.port} closed connection prematurely`,
    });
  });
  await withServer((_q, _i, socket) => socket.destroy(), async (s) => {
    const r = await provider(s.port).authenticate(REQUEST);
    assert.equal(r.status, "error");
  });
});

Deno.test("http provider: garbage reply is an invalid-header error", async () => {
  await withServer(answer("<html><body>nope</body></html>\r\n\r\n"), async (s) => {
    const r = await provider(s.port).authenticate(REQUEST);
    assert.deepEqual(r, {
      status: "error",
      reason: `auth http server 127.0.0.1:${s.port} sent invalid header in response`,
    });
  });
});

Deno.test("http provider: oversized reply head is an error", async () => {
  await withServer(answer(`HTTP/1.0 200 OK\r\nX-Pad: ${"a".repeat(2000)}\r\n\r\n`), async (s) => {
    const r = await provider(s.port).authenticate(REQUEST);
    assert.equal(r.status, "error");
    assert.match((r as { reason: string }).reason, /too long/);
  });
});

Deno.test("http provider: refused connection is an error, not a throw", async () => {
  const s = await fakeAuthServer(() => {});
  const port = s.port;
  await s.close();
  const r = await provider(port).authenticate(REQUEST);
  assert.equal(r.status, "error");
  assert.match(
    (r as { reason: string }).reason,
    new RegExp(`^auth http server 127\\.0\\.0\\.1:${port} connect failed`),
  );
  assert.ok(!(r as { reason: string }).reason.includes("s3cret"));
});

Deno.test("http provider: abort during the exchange and during a WAIT sleep", async () => {
  await withServer(() => {}, async (s) => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const started = Date.now();
    const r = await provider(s.port).authenticate(REQUEST, ac.signal);
    assert.deepEqual(r, { status: "error", reason: "auth http request aborted" });
    assert.ok(Date.now() - started < 1000);
  });
  await withServer(answer("Auth-Status: WAIT\r\nAuth-Wait: 60\r\n\r\n"), async (s) => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    const r = await provider(s.port).authenticate(REQUEST, ac.signal);
    assert.deepEqual(r, { status: "error", reason: "auth http request aborted" });
    assert.equal(s.requests.length, 1);
  });
  const ac = new AbortController();
  ac.abort();
  assert.equal((await provider(1).authenticate(REQUEST, ac.signal)).status, "error");
});

Deno.test("http provider: auth_http on a UNIX socket, with keep-alive reuse", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mailproxy-auth-"));
  const path = `${dir}/auth.sock`;
  const requests: string[] = [];
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    socket.on("error", () => {});
    let head = "";
    socket.on("data", (data: Buffer) => {
      head += data.toString("latin1");
      if (!head.endsWith("\r\n\r\n")) return;
      requests.push(head);
      head = "";
      socket.write(
        "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nAuth-Status: OK\r\n" +
          "Auth-Server: 127.0.0.1\r\nAuth-Port: 143\r\n\r\n",
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const url: AuthHttpUrl = {
    raw: `unix:${path}:/mail/auth`,
    transport: "unix",
    host: path,
    port: 0,
    uri: "/mail/auth",
    hostHeader: "localhost",
  };
  const p = new HttpAuthProvider({ url, headers: [], timeoutMs: 5000, transport, keepAlive: 2 });
  try {
    for (let i = 0; i < 2; i++) {
      assert.deepEqual(await p.authenticate(REQUEST), { status: "ok", server: "127.0.0.1", port: 143 });
    }
    assert.equal(requests.length, 2);
    assert.match(requests[0], /^GET \/mail\/auth HTTP\/1\.0\r\nHost: localhost\r\n/);
    assert.equal(connections, 1, "the second request reused the kept connection");
    assert.equal(p.peer, `unix:${path}`);
    const gone = new HttpAuthProvider({
      url: { ...url, host: `${dir}/none.sock` },
      headers: [],
      timeoutMs: 5000,
      transport,
    });
    const r = await gone.authenticate(REQUEST);
    assert.equal(r.status, "error");
    assert.match(
      (r as { reason: string }).reason,
      new RegExp(`^auth http server unix:${dir}/none.sock connect failed`),
    );
  } finally {
    p.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  }
});
