import assert from "node:assert/strict";
import { Hono } from "hono";
import type { UpstreamConfig } from "../config/types.ts";
import { MailproxyMetrics } from "../metrics/mailproxy_metrics.ts";
import { MemoryRouteStore, UpstreamRouter } from "../upstream/mod.ts";
import { addUpstreamRoutes } from "./upstreams.ts";

const POOL: UpstreamConfig = {
  name: "imap_main",
  protocol: "imap",
  hash: "user",
  sticky: 60_000,
  max_reconnects: 2,
  health_check: { interval: 5000, timeout: 2000, fails: 2, passes: 2 },
  backend_tls: null,
  proxy_protocol: null,
  servers: [1, 2].map((n) => ({
    address: `127.0.0.1:100${n}`,
    host: "127.0.0.1",
    port: 1000 + n,
    weight: 1,
    backup: false,
    state: "up" as const,
  })),
};

function app() {
  const router = new UpstreamRouter([POOL], {
    store: new MemoryRouteStore(),
    metrics: new MailproxyMetrics(),
    kick: () => true,
  });
  const hono = new Hono();
  addUpstreamRoutes(hono, { upstreams: router, workers: () => [] });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await hono.request(path, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
  return { call };
}

Deno.test("admin upstreams: list, drain by URL-encoded address, bad input", async () => {
  const { call } = app();
  const list = await call("GET", "/upstreams");
  assert.equal(list.body.upstreams[0].servers.length, 2);
  assert.deepEqual(list.body.upstreams[0].servers[0], {
    address: "127.0.0.1:1001",
    state: "up",
    weight: 1,
    backup: false,
    healthy: true,
    sessions: 0,
    users: 0,
  });
  const r = await call("POST", "/upstreams/imap_main/servers/127.0.0.1%3A1001", {
    state: "drain",
    weight: 3,
  });
  assert.equal(r.status, 200);
  assert.equal(r.body.server.state, "drain");
  assert.equal(r.body.server.weight, 3);
  assert.equal(
    (await call("POST", "/upstreams/imap_main/servers/127.0.0.1:1001", { state: "off" })).status,
    400,
  );
  assert.equal((await call("POST", "/upstreams/imap_main/servers/127.0.0.1:9", { state: "up" })).status, 404);
  assert.equal((await call("POST", "/upstreams/nope/servers/127.0.0.1:1001/flush")).status, 404);
  assert.equal((await call("POST", "/upstreams/imap_main/servers/127.0.0.1:1001", "[")).status, 400);
});

Deno.test("admin upstreams: routes — hash, pin, delete", async () => {
  const { call } = app();
  const before = await call("GET", "/routes/alice");
  assert.equal(before.body.source, "hash");
  assert.equal(before.body.upstream, "imap_main");
  const other = before.body.server === "127.0.0.1:1001" ? "127.0.0.1:1002" : "127.0.0.1:1001";
  const pinned = await call("PUT", "/routes/alice", { server: other });
  assert.deepEqual(pinned.body, {
    user: "alice",
    upstream: "imap_main",
    server: other,
    source: "pin",
    kicked: 0,
  });
  assert.deepEqual((await call("GET", "/routes/alice")).body.server, other);
  assert.equal((await call("PUT", "/routes/alice", {})).status, 400);
  assert.equal((await call("PUT", "/routes/alice", { server: "10.0.0.1:1" })).status, 404);
  assert.deepEqual((await call("DELETE", "/routes/alice")).body, { user: "alice", pins_removed: 1 });
  assert.equal((await call("GET", "/routes/alice")).body.source, "hash");
});

Deno.test("admin upstreams: with worker copies every change is passed on, lists are summed", async () => {
  const router = new UpstreamRouter([POOL], {
    store: new MemoryRouteStore(),
    metrics: new MailproxyMetrics(),
    kick: () => true,
  });
  const seen: string[] = [];
  const copy = {
    index: 1,
    pid: 42,
    restarts: 0,
    request: (method: "GET" | "POST" | "DELETE", target: string) => {
      seen.push(`${method} ${target}`);
      if (method === "GET") {
        const servers = POOL.servers.map((s) => ({
          address: s.address,
          sessions: 2,
          users: 1,
          healthy: false,
        }));
        return Promise.resolve({
          status: 200,
          text: JSON.stringify({ upstreams: [{ name: "imap_main", servers }] }),
        });
      }
      return Promise.resolve({ status: 200, text: JSON.stringify({ kicked: 1, sessions: 3, routes: 4 }) });
    },
  };
  const down = { index: 2, pid: null, restarts: 1, request: () => Promise.resolve(null) };
  const hono = new Hono();
  addUpstreamRoutes(hono, { upstreams: router, workers: () => [copy, down] });
  const call = async (method: string, path: string, body?: unknown) =>
    await (await hono.request(path, { method, body: body === undefined ? undefined : JSON.stringify(body) }))
      .json();

  const list = await call("GET", "/upstreams");
  assert.deepEqual(list.upstreams[0].servers.map((s: { sessions: number }) => s.sessions), [2, 2]);
  assert.equal(list.upstreams[0].servers[0].healthy, false, "unhealthy in one worker = unhealthy");
  const drained = await call("POST", "/upstreams/imap_main/servers/127.0.0.1:1001", { state: "drain" });
  assert.deepEqual(drained.unreachable_workers, [2]);
  const flushed = await call("POST", "/upstreams/imap_main/servers/127.0.0.1:1001/flush");
  assert.equal(flushed.sessions, 3);
  const pinned = await call("PUT", "/routes/bob", { server: "127.0.0.1:1002" });
  assert.equal(pinned.kicked, 1);
  await call("DELETE", "/routes/bob");
  assert.deepEqual(seen, [
    "GET /upstreams",
    "POST /upstreams/imap_main/servers/127.0.0.1%3A1001?state=drain",
    "POST /upstreams/imap_main/servers/127.0.0.1%3A1001/flush",
    "POST /routes/bob?server=127.0.0.1%3A1002&upstream=imap_main",
    "DELETE /routes/bob",
  ]);
});
