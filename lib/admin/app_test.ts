import assert from "node:assert/strict";
import { MailproxyMetrics } from "../metrics/mailproxy_metrics.ts";
import { SessionRegistry } from "../session/registry.ts";
import { createAdminApp } from "./app.ts";

function app(token: string | null = null) {
  const registry = new SessionRegistry();
  const metrics = new MailproxyMetrics();
  const hono = createAdminApp({
    registry,
    metrics,
    token,
    status: {
      version: "9.9.9",
      runtime: "deno test",
      startedAt: Date.now() - 5000,
      listeners: () => [{ server: 0, protocol: "imap", listen: "127.0.0.1:1143" }],
    },
  });
  return { hono, registry, metrics };
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
