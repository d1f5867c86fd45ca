/**
 * The admin HTTP API, built with Hono: health, status and Prometheus metrics.
 * It listens on its own socket (127.0.0.1 by default) and can require a bearer token.
 * @module
 */

import { Hono } from "hono";
import type { MailproxyMetrics } from "../metrics/mailproxy_metrics.ts";
import type { SessionRegistry } from "../session/registry.ts";

/** What `/status` reports about the process. */
export interface StatusSource {
  version: string;
  runtime: string;
  startedAt: number;
  listeners: () => { server: number; protocol: string; listen: string }[];
}

/** Inputs of the admin app. */
export interface AdminDeps {
  registry: SessionRegistry;
  metrics: MailproxyMetrics;
  status: StatusSource;
  /** Required bearer token, or null for none. */
  token: string | null;
}

/** Builds the Hono app. */
export function createAdminApp(deps: AdminDeps): Hono {
  const app = new Hono();

  if (deps.token !== null) {
    const expected = `Bearer ${deps.token}`;
    app.use("*", async (c, next) => {
      if (!constantTimeEqual(c.req.header("authorization") ?? "", expected)) {
        return c.json({ error: "unauthorized", message: "missing or wrong bearer token" }, 401, {
          "WWW-Authenticate": 'Bearer realm="mailproxy"',
        });
      }
      await next();
    });
  }

  app.get("/healthz", (c) => c.text("ok\n"));

  app.get("/status", (c) => {
    const m = deps.metrics;
    const totals = { ok: 0, failed: 0, error: 0 };
    for (const result of ["ok", "failed", "error"] as const) {
      for (const protocol of ["imap", "pop3", "smtp"]) {
        for (const method of ["plain", "apop", "cram-md5", "external", "none"]) {
          totals[result] += m.logins.get({ protocol, method, result });
        }
      }
    }
    return c.json({
      version: deps.status.version,
      runtime: deps.status.runtime,
      uptime_seconds: Math.round((Date.now() - deps.status.startedAt) / 1000),
      listeners: deps.status.listeners(),
      sessions: { active: deps.registry.size, by_protocol: deps.registry.countByProtocol() },
      logins: totals,
    });
  });

  app.get("/metrics", (c) =>
    c.body(deps.metrics.registry.render(), 200, {
      "Content-Type": "text/plain; version=0.0.4; charset=utf-8",
    }));

  app.notFound((c) => c.json({ error: "not_found", message: `no route ${c.req.method} ${c.req.path}` }, 404));
  app.onError((err, c) => c.json({ error: "internal", message: err.message }, 500));
  return app;
}

function constantTimeEqual(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    diff |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0);
  }
  return diff === 0;
}
