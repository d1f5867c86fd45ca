/**
 * The admin HTTP API, built with Hono: status page, health, status, sessions (list
 * and kick), reload, auth-cache flush, Prometheus metrics and the OpenAPI document.
 * It listens on its own socket (127.0.0.1 by default) and can require a token.
 * Routes for backend drain/enable do not exist because backend pools do not.
 * @module
 */

import { Hono } from "hono";
import type { MailproxyMetrics } from "../metrics/mailproxy_metrics.ts";
import type { SessionRegistry } from "../session/registry.ts";
import { requireToken } from "./auth.ts";
import { openApiDocument } from "./openapi.ts";
import { sessionFilter, sessionView } from "./sessions.ts";
import { statusModel, type StatusSource } from "./status_model.ts";
import { renderStatusPage } from "./status_page.tsx";

export type { StatusSource } from "./status_model.ts";

/** What a reload reports. */
export type ReloadOutcome =
  | { ok: true; changes: string[]; warnings: string[] }
  | { ok: false; reason: "invalid" | "stopping"; errors: string[] };

/** Something with cached auth results that can be emptied. */
export interface AuthCache {
  readonly size: number;
  clear(): void;
}

/** Inputs of the admin app. */
export interface AdminDeps {
  registry: SessionRegistry;
  metrics: MailproxyMetrics;
  status: StatusSource;
  /** Required token (or a getter, as a reload may change it); null for none. */
  token: string | null | (() => string | null);
  /** Re-reads the config; absent = no `/reload` route. */
  reload?: () => Promise<ReloadOutcome>;
  /** The auth cache; absent = no `/auth-cache/flush` route. */
  authCache?: AuthCache;
}

/** Builds the Hono app. */
export function createAdminApp(deps: AdminDeps): Hono {
  const app = new Hono();
  const token = deps.token;
  app.use("*", requireToken(typeof token === "function" ? token : () => token));

  app.get("/", (c) => c.html(renderStatusPage(statusModel(deps.status, deps.registry, deps.metrics))));

  app.get("/healthz", (c) => c.text("ok\n"));

  app.get("/status", (c) => {
    const model = statusModel(deps.status, deps.registry, deps.metrics);
    const { sessions: _, ...rest } = model;
    return c.json({
      ...rest,
      sessions: { active: deps.registry.size, by_protocol: deps.registry.countByProtocol() },
      logins: {
        ok: model.logins.ok.total,
        failed: model.logins.failed.total,
        error: model.logins.error.total,
      },
      login_rates: model.logins,
    });
  });

  app.get("/metrics", (c) =>
    c.body(deps.metrics.registry.render(), 200, {
      "Content-Type": "text/plain; version=0.0.4; charset=utf-8",
    }));

  app.get("/openapi.json", (c) => c.json(openApiDocument(deps.status.version)));

  app.get("/sessions", (c) => {
    const match = sessionFilter((name) => c.req.query(name));
    const now = Date.now();
    const list = deps.registry.list().filter((s) => !match || match(s));
    return c.json({ sessions: list.map((s) => sessionView(s, now)) });
  });

  app.delete("/sessions", (c) => {
    const match = sessionFilter((name) => c.req.query(name));
    if (!match) {
      return c.json({
        error: "filter_required",
        message: "give a filter (user, backend, protocol or client); ending every session needs a restart",
      }, 400);
    }
    return c.json({ killed: deps.registry.killWhere(match) });
  });

  app.get("/sessions/:id", (c) => {
    const id = c.req.param("id");
    const info = deps.registry.list().find((s) => s.id === id);
    if (!info) return c.json({ error: "not_found", message: `no session ${id}` }, 404);
    return c.json(sessionView(info));
  });

  app.delete("/sessions/:id", (c) => {
    const id = c.req.param("id");
    if (!deps.registry.kill(id)) return c.json({ error: "not_found", message: `no session ${id}` }, 404);
    return c.json({ killed: [id] });
  });

  const reload = deps.reload;
  if (reload) {
    app.post("/reload", async (c) => {
      const r = await reload();
      if (r.ok) return c.json({ reloaded: true, changes: r.changes, warnings: r.warnings });
      if (r.reason === "stopping") {
        return c.json({ error: "stopping", message: "mailproxy is shutting down", errors: r.errors }, 409);
      }
      return c.json({
        error: "invalid_config",
        message: "the new config was refused; the running config is unchanged",
        errors: r.errors,
      }, 422);
    });
  }

  const cache = deps.authCache;
  if (cache) {
    app.post("/auth-cache/flush", (c) => {
      const flushed = cache.size;
      cache.clear();
      return c.json({ flushed });
    });
  }

  app.notFound((c) => c.json({ error: "not_found", message: `no route ${c.req.method} ${c.req.path}` }, 404));
  app.onError((err, c) => c.json({ error: "internal", message: err.message }, 500));
  return app;
}
