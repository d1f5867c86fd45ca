import assert from "node:assert/strict";
import * as net from "node:net";
import type { Buffer } from "node:buffer";
import { HttpAuthProvider } from "./http_provider.ts";
import { IdlePool } from "./idle_pool.ts";
import type { AuthRequest } from "./types.ts";
import type { Conn } from "../transport/types.ts";
import { runtimeTransport } from "../transport/mod.ts";

const transport = await runtimeTransport();

/** An auth server that answers every request head on a connection (keep-alive capable). */
async function server(answer: (socket: net.Socket, index: number) => void) {
  const sockets = new Set<net.Socket>();
  const requests: string[] = [];
  let connections = 0;
  const srv = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let buf = "";
    socket.on("data", (data: Buffer) => {
      buf += data.toString("latin1");
      let end;
      while ((end = buf.indexOf("\r\n\r\n")) >= 0) {
        requests.push(buf.slice(0, end + 4));
        buf = buf.slice(end + 4);
        answer(socket, requests.length - 1);
      }
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const port = (srv.address() as net.AddressInfo).port;
  return {
    port,
    requests,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        srv.close(() => resolve());
      }),
  };
}

const KEEP = "HTTP/1.0 200 OK\r\nAuth-Status: OK\r\nAuth-Server: 127.0.0.1\r\nAuth-Port: 1143\r\n" +
  "Content-Length: 0\r\nConnection: keep-alive\r\n\r\n";

function provider(port: number, keepAlive = 4): HttpAuthProvider {
  return new HttpAuthProvider({
    url: { raw: "", transport: "tcp", host: "127.0.0.1", port, uri: "/auth", hostHeader: "127.0.0.1" },
    headers: [["X-Key", "k"]],
    timeoutMs: 5000,
    transport,
    keepAlive,
    keepAliveTimeoutMs: 60_000,
  });
}

const REQUEST: AuthRequest = {
  protocol: "imap",
  method: "plain",
  user: "alice",
  pass: "pw",
  attempt: 1,
  clientIp: "192.0.2.9",
  clientPort: 40000,
  sessionId: "t",
};
const OK = { status: "ok", server: "127.0.0.1", port: 1143 };

async function using<T extends { close(): Promise<void> }>(s: T, fn: (s: T) => Promise<void>) {
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}

Deno.test("auth_http keep-alive: sequential logins share one connection; the request asks for it", async () => {
  await using(await server((socket) => socket.write(KEEP)), async (s) => {
    const p = provider(s.port);
    for (let i = 0; i < 3; i++) assert.deepEqual(await p.authenticate(REQUEST), OK);
    assert.equal(s.connections, 1);
    assert.match(s.requests[2], /Client-IP: 192\.0\.2\.9\r\nConnection: keep-alive\r\nX-Key: k\r\n\r\n$/);
  });
});

Deno.test("auth_http keep-alive: off (0) sends no Connection header and connects per request", async () => {
  await using(await server((socket) => socket.end(KEEP)), async (s) => {
    const p = provider(s.port, 0);
    for (let i = 0; i < 2; i++) assert.deepEqual(await p.authenticate(REQUEST), OK);
    assert.equal(s.connections, 2);
    assert.doesNotMatch(s.requests[0], /Connection/);
  });
});

Deno.test("auth_http keep-alive: replies that do not allow reuse close the connection", async () => {
  const replies = [
    KEEP.replace("Connection: keep-alive", "Connection: close"),
    KEEP.replace("\r\nConnection: keep-alive", ""),
    KEEP.replace("Content-Length: 0", "Content-Length: 2") + "{}",
    KEEP + "HTTP/1.0 200 OK\r\n",
  ];
  for (const reply of replies) {
    await using(await server((socket) => socket.write(reply)), async (s) => {
      const p = provider(s.port);
      for (let i = 0; i < 2; i++) assert.deepEqual(await p.authenticate(REQUEST), OK, JSON.stringify(reply));
      assert.equal(s.connections, 2, JSON.stringify(reply));
    });
  }
});

Deno.test("auth_http keep-alive: a connection the server closed while idle is replaced, the login succeeds", async () => {
  await using(
    await server((socket) => {
      socket.write(KEEP);
      setTimeout(() => socket.end(), 5);
    }),
    async (s) => {
      const p = provider(s.port);
      assert.deepEqual(await p.authenticate(REQUEST), OK);
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(await p.authenticate(REQUEST), OK);
      assert.equal(s.connections, 2);
      assert.equal(s.requests.length, 2, "the closed connection was not written to");
    },
  );
});

Deno.test("auth_http keep-alive: a reset during reuse (server gone before answering) retries once on a new connection", async () => {
  await using(
    await server((socket, index) => {
      if (index === 1) socket.destroy();
      else socket.write(KEEP);
    }),
    async (s) => {
      const p = provider(s.port);
      assert.deepEqual(await p.authenticate(REQUEST), OK);
      assert.deepEqual(await p.authenticate(REQUEST), OK);
      assert.equal(s.connections, 2);
      assert.equal(s.requests.length, 3, "sent on the kept connection, then again on a new one");
    },
  );
});

Deno.test("auth_http keep-alive: bytes arriving on an idle connection drop it (never read as the next reply)", async () => {
  await using(
    await server((socket, index) => {
      socket.write(KEEP);
      if (index === 0) {
        setTimeout(() => socket.write("HTTP/1.0 408 Request Timeout\r\nAuth-Status: stale\r\n\r\n"), 5);
      }
    }),
    async (s) => {
      const p = provider(s.port);
      assert.deepEqual(await p.authenticate(REQUEST), OK);
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(await p.authenticate(REQUEST), OK);
      assert.equal(s.connections, 2);
    },
  );
});

Deno.test("auth_http keep-alive: parallel logins open what they need; the pool keeps at most auth_http_keepalive", async () => {
  await using(await server((socket) => setTimeout(() => socket.write(KEEP), 20)), async (s) => {
    const p = provider(s.port, 3);
    const all = await Promise.all(Array.from({ length: 8 }, () => p.authenticate(REQUEST)));
    for (const r of all) assert.deepEqual(r, OK);
    assert.equal(s.connections, 8);
    await Promise.all(Array.from({ length: 3 }, () => p.authenticate(REQUEST)));
    assert.equal(s.connections, 8, "three kept connections served the next three");
    await Promise.all(Array.from({ length: 4 }, () => p.authenticate(REQUEST)));
    assert.equal(s.connections, 9, "only three were kept");
  });
});

/** A Conn whose read stays pending until closed; records closes. */
function fakeConn(): Conn & { closed: boolean } {
  let release: (v: null) => void = () => {};
  const pending = new Promise<null>((r) => release = r);
  const conn = {
    closed: false,
    read: () => pending,
    close() {
      conn.closed = true;
      release(null);
    },
  };
  return conn as unknown as Conn & { closed: boolean };
}

Deno.test("idle pool: newest first, expired connections are closed, never more than max", () => {
  let now = 0;
  const pool = new IdlePool(2, 1000, () => now);
  const [a, b, c] = [fakeConn(), fakeConn(), fakeConn()];
  pool.give(a);
  now = 600;
  pool.give(b);
  pool.give(c);
  assert.ok(c.closed, "over max: closed");
  now = 1200;
  assert.equal(pool.take()?.conn, b);
  assert.equal(pool.take(), null, "a expired");
  assert.ok(a.closed);
  pool.give(b);
  pool.close();
  assert.ok(b.closed);
  assert.equal(pool.size, 0);
});
