/**
 * The supervisor's admin app over worker copies, without processes or sockets: each fake
 * link answers with another admin app (what a copy serves on its private socket), or is
 * down, or answers garbage.
 */

import assert from "node:assert/strict";
import { MailproxyMetrics } from "../metrics/mailproxy_metrics.ts";
import { type SessionInfo, SessionRegistry } from "../session/registry.ts";
import { createAdminApp, type WorkerLink } from "./app.ts";

interface Proc {
  registry: SessionRegistry;
  metrics: MailproxyMetrics;
  flushes: number;
  reloads: number;
  app: ReturnType<typeof createAdminApp>;
}

function proc(): Proc {
  const p = {
    registry: new SessionRegistry(),
    metrics: new MailproxyMetrics(),
    flushes: 0,
    reloads: 0,
  } as Proc;
  p.metrics.initServer(0, "imap");
  p.app = createAdminApp({
    registry: p.registry,
    metrics: p.metrics,
    token: null,
    reload: () => {
      p.reloads++;
      return Promise.resolve({ ok: true, changes: [], warnings: [] });
    },
    authCache: {
      get size() {
        return 2;
      },
      clear: () => void p.flushes++,
    },
    status: {
      version: "9.9.9",
      runtime: "deno test",
      startedAt: Date.now() - 5000,
      listeners: () => [{ server: 0, protocol: "imap", listen: "127.0.0.1:1143" }],
    },
  });
  return p;
}

/** A link to `copy` through its app, like requestWorker does through the socket. */
function linkTo(index: number, copy: Proc, restarts = 0): WorkerLink {
  return {
    index,
    pid: 1000 + index,
    restarts,
    request: async (method, target) => {
      const res = await copy.app.request(target, { method });
      return { status: res.status, text: await res.text() };
    },
  };
}

function fixedLink(
  index: number,
  reply: { status: number; text: string } | null,
  pid: number | null = 7,
): WorkerLink {
  return { index, pid, restarts: 1, request: () => Promise.resolve(reply) };
}

function open(p: Proc, id: string, extra: Partial<SessionInfo> = {}) {
  const labels = { server: "0", protocol: "imap" };
  p.metrics.connectionsAccepted.inc(labels);
  p.metrics.connectionsActive.add(labels, 1);
  return p.registry.add({
    id,
    protocol: "imap",
    server: 0,
    client: `127.0.0.1:${id.length}`,
    listen: "127.0.0.1:1143",
    state: "pre-auth",
    startedAt: Date.now() - 1000,
    bytesUp: 0,
    bytesDown: 0,
    ...extra,
  });
}

/** Supervisor with copy 1 (an app), copy 2 (down: no pid), copy 3 (answers nothing in time). */
function fleet() {
  const sup = proc();
  const one = proc();
  const links = [linkTo(1, one, 2), fixedLink(2, null, null), fixedLink(3, null)];
  const app = createAdminApp({
    registry: sup.registry,
    metrics: sup.metrics,
    token: "t0ken",
    reload: () => Promise.resolve({ ok: true, changes: ["x"], warnings: [] }),
    authCache: { size: 1, clear() {} },
    workers: () => links,
    status: {
      version: "9.9.9",
      runtime: "deno test",
      startedAt: Date.now() - 9000,
      listeners: () => [{ server: 0, protocol: "imap", listen: "127.0.0.1:1143" }],
    },
  });
  // deno-lint-ignore no-explicit-any
  const call = async (path: string, method = "GET"): Promise<{ status: number; body: any }> => {
    const res = await app.request(path, { method, headers: { Authorization: "Bearer t0ken" } });
    const text = await res.text();
    try {
      return { status: res.status, body: JSON.parse(text) };
    } catch {
      return { status: res.status, body: text };
    }
  };
  return { sup, one, call };
}

Deno.test("fleet: /sessions lists every worker's sessions under unique ids; filters reach the copies", async () => {
  const { sup, one, call } = fleet();
  open(sup, "aaa", { user: "alice" });
  open(one, "w1-aaa", { user: "bob" }); // the copy names its sessions w1-…
  open(one, "w1-bbb", { user: "alice" });
  const all = (await call("/sessions")).body.sessions;
  assert.deepEqual(all.map((s: { id: string; worker: number }) => [s.id, s.worker]).sort(), [
    ["aaa", 0],
    ["w1-aaa", 1],
    ["w1-bbb", 1],
  ]);
  const alice = (await call("/sessions?user=alice")).body.sessions;
  assert.deepEqual(alice.map((s: { id: string }) => s.id).sort(), ["aaa", "w1-bbb"]);
  const one1 = await call("/sessions/w1-aaa");
  assert.equal(one1.status, 200);
  assert.equal(one1.body.user, "bob");
  assert.equal(one1.body.id, "w1-aaa");
  assert.equal((await call("/sessions/w1-zzz")).status, 404);
  assert.equal((await call("/sessions/w9-aaa")).status, 404, "no worker 9");
  const down = await call("/sessions/w2-aaa");
  assert.equal(down.status, 503);
  assert.equal(down.body.error, "worker_unavailable");
});

Deno.test("fleet: DELETE reaches the copy holding the session", async () => {
  const { sup, one, call } = fleet();
  const mine = open(sup, "aaa", { user: "alice" });
  const theirs = open(one, "w1-aaa", { user: "bob" });
  const alices = open(one, "w1-ccc", { user: "alice" });
  const kicked = await call("/sessions/w1-aaa", "DELETE");
  assert.deepEqual(kicked, { status: 200, body: { killed: ["w1-aaa"] } });
  assert.equal(theirs.abort.signal.aborted, true);
  assert.equal(mine.abort.signal.aborted, false, "the supervisor's own aaa is another session");
  assert.equal((await call("/sessions/w1-nope", "DELETE")).status, 404);
  assert.equal((await call("/sessions/w3-aaa", "DELETE")).status, 503);
  const byUser = await call("/sessions?user=alice", "DELETE");
  assert.deepEqual(byUser.body, { killed: ["aaa", "w1-ccc"], unreachable_workers: [2, 3] });
  assert.equal(alices.abort.signal.aborted, true);
  assert.equal(mine.abort.signal.aborted, true);
});

Deno.test("fleet: /status sums the counts and lists every worker, down ones too", async () => {
  const { sup, one, call } = fleet();
  open(sup, "a");
  open(one, "w1-b");
  open(one, "w1-c", { protocol: "pop3" });
  one.metrics.logins.inc({ protocol: "imap", method: "plain", result: "ok" }, 3);
  sup.metrics.logins.inc({ protocol: "imap", method: "plain", result: "failed" });
  one.metrics.authDuration.observe({ provider: "http" }, 0.010);
  sup.metrics.authDuration.observe({ provider: "http" }, 0.020);
  sup.metrics.authDuration.observe({ provider: "http" }, 0.030);
  one.metrics.backendConnectDuration.observe({ backend: "10.0.0.1:143" }, 0.002);
  one.metrics.backendLoginDuration.observe({ backend: "10.0.0.1:143" }, 0.004);
  const { status, body } = await call("/status");
  assert.equal(status, 200);
  assert.equal(body.sessions.active, 3);
  assert.deepEqual(body.sessions.by_protocol, { imap: 2, pop3: 1, smtp: 0, sieve: 0 });
  assert.deepEqual(body.logins, { ok: 3, failed: 1, error: 0 });
  assert.equal(body.login_rates.ok.m1, 3);
  assert.equal(body.listeners[0].sessions, 3);
  assert.deepEqual(body.auth, [{ provider: "http", requests: 3, avg_ms: 20, errors: 0 }]);
  assert.equal(body.backends[0].logins, 1);
  assert.equal(body.backends[0].connect_avg_ms, 2);
  assert.deepEqual(
    body.workers.map((w: { worker: number; up: boolean; sessions: number | null; restarts: number }) => [
      w.worker,
      w.up,
      w.sessions,
      w.restarts,
    ]),
    [[0, true, 1, 0], [1, true, 2, 2], [2, false, null, 1], [3, false, null, 1]],
  );
  assert.equal(body.workers[1].pid, 1001);
  assert.equal(body.workers[2].pid, null);
  const page = await call("/");
  assert.match(page.body, /<table id="workers">/);
  assert.match(page.body, /data-session="w1-b"/);
});

Deno.test("fleet: /metrics sums the workers' series and says which workers are up", async () => {
  const { sup, one, call } = fleet();
  open(sup, "a");
  open(one, "w1-b");
  open(one, "w1-c");
  const { body } = await call("/metrics");
  assert.match(body, /^mailproxy_connections_accepted_total\{protocol="imap",server="0"\} 3$/m);
  assert.match(body, /^mailproxy_connections_active\{protocol="imap",server="0"\} 3$/m);
  assert.match(body, /^mailproxy_config_last_reload_successful 1$/m);
  assert.match(body, /^mailproxy_worker_up\{worker="1"\} 1$/m);
  assert.match(body, /^mailproxy_worker_up\{worker="2"\} 0$/m);
  assert.match(body, /^mailproxy_worker_restarts_total\{worker="1"\} 2$/m);
  assert.equal(body.match(/^# TYPE mailproxy_connections_active gauge$/gm).length, 1);
});

Deno.test("fleet: reload and auth-cache flush reach every copy", async () => {
  const { one, call } = fleet();
  const reload = await call("/reload", "POST");
  assert.equal(reload.status, 200);
  assert.deepEqual(reload.body.workers, [
    { worker: 1, reloaded: true },
    { worker: 2, reloaded: false, errors: ["the worker did not answer"] },
    { worker: 3, reloaded: false, errors: ["the worker did not answer"] },
  ]);
  assert.equal(one.reloads, 1);
  const flush = await call("/auth-cache/flush", "POST");
  assert.deepEqual(flush.body, { flushed: 3, unreachable_workers: [2, 3] });
  assert.equal(one.flushes, 1);
});

Deno.test("fleet: garbage from a copy is ignored or reported as down, never a crash", async () => {
  const replies: ({ status: number; text: string } | null)[] = [
    { status: 200, text: "<html>not json" },
    { status: 200, text: "null" },
    { status: 200, text: '{"sessions":"many","listeners":7,"auth":[null,{"provider":5}],"backends":{}}' },
    {
      status: 200,
      text: JSON.stringify({
        sessions: [null, { id: 5 }, { id: "" }, { id: "w4-ok", bytes: "x", user: 3, server: "0" }],
        killed: [1, "w4-k"],
        flushed: "9",
      }),
    },
    { status: 500, text: '{"error":"internal"}' },
  ];
  const sup = proc();
  open(sup, "own");
  const app = createAdminApp({
    registry: sup.registry,
    metrics: sup.metrics,
    token: null,
    reload: () => Promise.resolve({ ok: true, changes: [], warnings: [] }),
    authCache: { size: 0, clear() {} },
    workers: () => replies.map((r, i) => fixedLink(i + 1, r)),
    status: { version: "1", runtime: "x", startedAt: Date.now(), listeners: () => [] },
  });
  for (
    const [method, path] of [
      ["GET", "/"],
      ["GET", "/status"],
      ["GET", "/metrics"],
      ["GET", "/sessions"],
      ["GET", "/sessions/w1-x"],
      ["GET", "/sessions/w4-ok"],
      ["DELETE", "/sessions/w5-x"],
      ["DELETE", "/sessions?user=a"],
      ["POST", "/reload"],
      ["POST", "/auth-cache/flush"],
    ]
  ) {
    const res = await app.request(path, { method });
    assert.ok([200, 404, 503].includes(res.status), `${method} ${path}: ${res.status}`);
    await res.text();
  }
  const status = await (await app.request("/status")).json();
  assert.equal(status.sessions.active, 1);
  assert.deepEqual(status.workers.map((w: { up: boolean }) => w.up), [
    true,
    false,
    false,
    false,
    false,
    false,
  ]);
  const sessions = (await (await app.request("/sessions")).json()).sessions;
  assert.deepEqual(sessions.map((s: { id: string }) => s.id).sort(), ["own", "w4-ok"]);
  const ok = sessions.find((s: { id: string }) => s.id === "w4-ok");
  assert.deepEqual([ok.user, ok.server, ok.bytes], [null, 0, { upstream: 0, downstream: 0 }]);
  const metrics = await (await app.request("/metrics")).text();
  assert.match(metrics, /^mailproxy_connections_active\{protocol="imap",server="0"\} 1$/m);
  assert.ok(!metrics.includes("<html>"));
  const killed = await (await app.request("/sessions?user=a", { method: "DELETE" })).json();
  assert.deepEqual(killed, { killed: ["w4-k"], unreachable_workers: [5] });
});
