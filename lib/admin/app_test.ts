import assert from "node:assert/strict";
import { MailproxyMetrics } from "../metrics/mailproxy_metrics.ts";
import { SessionRegistry } from "../session/registry.ts";
import type { SessionInfo } from "../session/registry.ts";
import { createAdminApp, type ReloadOutcome } from "./app.ts";
import { openApiDocument } from "./openapi.ts";
import { LoginLimits } from "../limits/mod.ts";

function app(
  token: string | null = null,
  reloadOutcome: ReloadOutcome = { ok: true, changes: [], warnings: [] },
) {
  const registry = new SessionRegistry();
  const metrics = new MailproxyMetrics();
  const cacheState = { size: 3, cleared: 0 };
  let reloads = 0;
  const loginLimits = new LoginLimits(() => ({
    ip: { failures: 2, window: 600_000, block: 900_000 },
    user: { failures: 2, window: 600_000, block: 900_000 },
    delay: [],
    exempt: [],
    known_ip: 0,
  }));
  const hono = createAdminApp({
    loginLimits,
    registry,
    metrics,
    token,
    reload: () => {
      reloads++;
      return Promise.resolve(reloadOutcome);
    },
    authCache: {
      get size() {
        return cacheState.size;
      },
      clear() {
        cacheState.cleared++;
        cacheState.size = 0;
      },
    },
    status: {
      version: "9.9.9",
      runtime: "deno test",
      startedAt: Date.now() - 5000,
      listeners: () => [{ server: 0, protocol: "imap", listen: "127.0.0.1:1143" }],
    },
  });
  return { hono, registry, metrics, cacheState, loginLimits, reloads: () => reloads };
}

function session(id: string, extra: Partial<SessionInfo> = {}): SessionInfo {
  return {
    id,
    protocol: "imap",
    server: 0,
    client: "127.0.0.1:5",
    listen: "127.0.0.1:1143",
    state: "relay",
    startedAt: Date.now() - 2000,
    bytesUp: 10,
    bytesDown: 20,
    ...extra,
  };
}

Deno.test("admin: /healthz answers ok", async () => {
  const res = await app().hono.request("/healthz");
  assert.equal(res.status, 200);
  assert.equal(await res.text(), "ok\n");
});

Deno.test("admin: /status reports sessions and login totals", async () => {
  const { hono, registry, metrics } = app();
  registry.add({
    id: "s1",
    protocol: "imap",
    server: 0,
    client: "127.0.0.1:5",
    listen: "1143",
    state: "relay",
    startedAt: Date.now(),
    bytesUp: 0,
    bytesDown: 0,
  });
  metrics.logins.inc({ protocol: "imap", method: "plain", result: "ok" }, 2);
  metrics.logins.inc({ protocol: "imap", method: "cram-md5", result: "failed" });
  const body = await (await hono.request("/status")).json();
  assert.equal(body.version, "9.9.9");
  assert.equal(body.sessions.active, 1);
  assert.equal(body.sessions.by_protocol.imap, 1);
  assert.deepEqual(body.logins, { ok: 2, failed: 1, error: 0 });
  assert.ok(body.uptime_seconds >= 4);
});

Deno.test("admin: /metrics is Prometheus text with the login counter", async () => {
  const { hono, metrics } = app();
  metrics.logins.inc({ protocol: "imap", method: "plain", result: "ok" });
  metrics.authDuration.observe({ provider: "http" }, 0.003);
  const res = await hono.request("/metrics");
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  assert.match(text, /^mailproxy_logins_total\{method="plain",protocol="imap",result="ok"\} 1$/m);
  assert.match(text, /^mailproxy_auth_request_duration_seconds_bucket\{provider="http",le="0\.005"\} 1$/m);
  assert.match(text, /^mailproxy_auth_request_duration_seconds_bucket\{provider="http",le="0\.0025"\} 0$/m);
  assert.match(text, /^# TYPE mailproxy_connections_active gauge$/m);
});

Deno.test("admin: a token is required when configured", async () => {
  const { hono } = app("s3cret");
  assert.equal((await hono.request("/status")).status, 401);
  const wrong = await hono.request("/status", { headers: { Authorization: "Bearer nope" } });
  assert.equal(wrong.status, 401);
  const ok = await hono.request("/status", { headers: { Authorization: "Bearer s3cret" } });
  assert.equal(ok.status, 200);
});

Deno.test("admin: unknown routes give a JSON 404", async () => {
  const res = await app().hono.request("/nope");
  assert.equal(res.status, 404);
  assert.equal((await res.json()).error, "not_found");
});

Deno.test("admin: GET /sessions lists sessions and filters by user and backend", async () => {
  const { hono, registry } = app();
  registry.add(session("s1", { user: "alice", backend: "10.0.0.1:143" }));
  registry.add(session("s2", { user: "bob", backend: "10.0.0.2:143" }));
  registry.add(session("s3", { state: "pre-auth" }));
  const all = (await (await hono.request("/sessions")).json()).sessions;
  assert.deepEqual(all.map((s: { id: string }) => s.id), ["s1", "s2", "s3"]);
  assert.deepEqual(all[0], {
    id: "s1",
    worker: 0,
    protocol: "imap",
    server: 0,
    listen: "127.0.0.1:1143",
    client: "127.0.0.1:5",
    user: "alice",
    backend: "10.0.0.1:143",
    state: "relay",
    tls: null,
    started: all[0].started,
    duration_seconds: 2,
    bytes: { upstream: 10, downstream: 20 },
  });
  assert.ok(!Number.isNaN(Date.parse(all[0].started)));
  const bob = (await (await hono.request("/sessions?user=bob")).json()).sessions;
  assert.deepEqual(bob.map((s: { id: string }) => s.id), ["s2"]);
  const be = (await (await hono.request("/sessions?backend=10.0.0.1:143")).json()).sessions;
  assert.deepEqual(be.map((s: { id: string }) => s.id), ["s1"]);
  assert.equal((await (await hono.request("/sessions/s3")).json()).state, "pre-auth");
  assert.equal((await hono.request("/sessions/nope")).status, 404);
});

Deno.test("admin: DELETE kicks one session, or every session of a user", async () => {
  const { hono, registry } = app();
  const a1 = registry.add(session("a1", { user: "alice" }));
  const a2 = registry.add(session("a2", { user: "alice" }));
  const b1 = registry.add(session("b1", { user: "bob" }));
  const one = await hono.request("/sessions/b1", { method: "DELETE" });
  assert.equal(one.status, 200);
  assert.deepEqual(await one.json(), { killed: ["b1"] });
  assert.equal(b1.abort.signal.aborted, true);
  assert.equal(a1.abort.signal.aborted, false);
  const missing = await hono.request("/sessions/zz", { method: "DELETE" });
  assert.equal(missing.status, 404);
  assert.deepEqual(await missing.json(), { error: "not_found", message: "no session zz" });
  const byUser = await hono.request("/sessions?user=alice", { method: "DELETE" });
  assert.deepEqual(await byUser.json(), { killed: ["a1", "a2"] });
  assert.equal(a2.abort.signal.aborted, true);
  const noFilter = await hono.request("/sessions", { method: "DELETE" });
  assert.equal(noFilter.status, 400);
  assert.equal((await noFilter.json()).error, "filter_required");
});

Deno.test("admin: POST /reload returns the changes or the refusal with its errors", async () => {
  const ok = app(null, { ok: true, changes: ["listening on 127.0.0.1:9"], warnings: [] });
  const res = await ok.hono.request("/reload", { method: "POST" });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { reloaded: true, changes: ["listening on 127.0.0.1:9"], warnings: [] });
  assert.equal(ok.reloads(), 1);
  const bad = app(null, { ok: false, reason: "invalid", errors: ["proxy.toml:3: unknown key"] });
  const refused = await bad.hono.request("/reload", { method: "POST" });
  assert.equal(refused.status, 422);
  const body = await refused.json();
  assert.equal(body.error, "invalid_config");
  assert.deepEqual(body.errors, ["proxy.toml:3: unknown key"]);
  assert.equal((await bad.hono.request("/reload")).status, 404, "GET is not a reload");
});

Deno.test("admin: POST /auth-cache/flush empties the cache", async () => {
  const { hono, cacheState } = app();
  const res = await hono.request("/auth-cache/flush", { method: "POST" });
  assert.deepEqual(await res.json(), { flushed: 3 });
  assert.equal(cacheState.cleared, 1);
});

Deno.test("admin: every route of the app is in the OpenAPI document", async () => {
  const { hono } = app();
  const doc = await (await hono.request("/openapi.json")).json();
  assert.deepEqual(doc, JSON.parse(JSON.stringify(openApiDocument("9.9.9"))));
  const routes = hono.routes.filter((r) => r.method !== "ALL");
  assert.ok(routes.length >= 10, `only ${routes.length} routes`);
  for (const r of routes) {
    const path = r.path.replace(/:(\w+)/g, "{$1}");
    assert.ok(doc.paths[path]?.[r.method.toLowerCase()], `${r.method} ${r.path} is not in /openapi.json`);
  }
  for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
    for (const method of Object.keys(ops).filter((m) => m !== "parameters")) {
      const route = path.replace(/\{(\w+)\}/g, ":$1");
      assert.ok(
        routes.some((r) => r.path === route && r.method.toLowerCase() === method),
        `/openapi.json documents ${method} ${path}, which the app does not serve`,
      );
    }
  }
});

Deno.test("admin: the status page is HTML with a meta refresh and escaped user names", async () => {
  const { hono, registry, metrics } = app();
  registry.add(session("s1", { user: "<script>alert(1)</script>", backend: "10.0.0.1:143" }));
  metrics.logins.inc({ protocol: "imap", method: "plain", result: "failed" }, 4);
  metrics.backendLoginDuration.observe({ backend: "10.0.0.1:143" }, 0.02);
  metrics.backendFailures.inc({ backend: "10.0.0.9:143", stage: "connect" });
  const res = await hono.request("/");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
  const html = await res.text();
  assert.match(html, /^<!DOCTYPE html><html lang="en">/);
  assert.match(html, /<meta http-equiv="refresh" content="5"\/?>/);
  assert.ok(!html.includes("<script>"), "client-supplied text is escaped");
  assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  assert.match(html, /<tr data-session="s1">/);
  assert.match(html, /10\.0\.0\.9:143/, "a backend that only failed is listed");
  assert.match(html, /<td class="bad">failed<\/td><td class="n">4<\/td>/);
});

Deno.test("admin: Basic auth with the token as password works for browsers", async () => {
  const { hono } = app("s3cret");
  const denied = await hono.request("/");
  assert.equal(denied.status, 401);
  assert.match(denied.headers.get("www-authenticate") ?? "", /^Basic realm="mailproxy"/);
  const api = await hono.request("/status");
  assert.equal(api.headers.get("www-authenticate"), 'Bearer realm="mailproxy"');
  assert.ok(!(await denied.text()).includes("s3cret"));
  const ok = await hono.request("/", { headers: { Authorization: `Basic ${btoa("admin:s3cret")}` } });
  assert.equal(ok.status, 200);
  const wrong = await hono.request("/", { headers: { Authorization: `Basic ${btoa("admin:nope")}` } });
  assert.equal(wrong.status, 401);
  const garbage = await hono.request("/", { headers: { Authorization: "Basic %%%" } });
  assert.equal(garbage.status, 401);
});

Deno.test("admin: GET /limits lists counts without password material; DELETE lifts a network or a user", async () => {
  const { hono, loginLimits } = app();
  const now = Date.now();
  loginLimits.failure("192.0.2.9", "alice", "hunter2", now);
  loginLimits.failure("192.0.2.9", "alice", "letmein", now);
  const all = await (await hono.request("/limits")).json();
  assert.equal(all.entries.length, 2);
  assert.ok(
    all.entries.every((e: { failures: number; blocked_until: string | null }) =>
      e.failures === 2 && e.blocked_until
    ),
  );
  const text = JSON.stringify(all);
  assert.ok(!text.includes("hunter2") && !text.includes("letmein"));
  const onlyIp = await (await hono.request("/limits?ip=192.0.2.9")).json();
  assert.deepEqual(onlyIp.entries.map((e: { kind: string }) => e.kind), ["ip"]);
  assert.equal(loginLimits.check("192.0.2.9", "bob", Date.now()).blocked, true);
  assert.equal((await hono.request("/limits/ip/192.0.2.9%2F32", { method: "DELETE" })).status, 200);
  assert.equal(loginLimits.check("192.0.2.9", "bob", Date.now()).blocked, false);
  assert.equal((await hono.request("/limits/ip/192.0.2.9", { method: "DELETE" })).status, 404);
  assert.equal(loginLimits.check("198.51.100.1", "alice", Date.now()).blocked, true);
  assert.equal((await hono.request("/limits/user/alice", { method: "DELETE" })).status, 200);
  assert.equal(loginLimits.check("198.51.100.1", "alice", Date.now()).blocked, false);
  assert.deepEqual((await (await hono.request("/limits")).json()).entries, []);
});

Deno.test("admin: POST /auth-cache/flush?user= needs a cache that can flush one user", async () => {
  const { hono, cacheState } = app();
  const res = await hono.request("/auth-cache/flush?user=alice", { method: "POST" });
  assert.equal(res.status, 400);
  await res.body?.cancel();
  assert.equal(cacheState.cleared, 0, "a per-user flush never empties the whole cache");
});
