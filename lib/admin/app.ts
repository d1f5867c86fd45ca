/**
 * The admin HTTP API, built with Hono: status page, health, status, sessions (list
 * and kick), reload, auth-cache flush, Prometheus metrics and the OpenAPI document.
 * It listens on its own socket (127.0.0.1 by default) and can require a token.
 * With `worker_processes` > 1 the supervisor's app also asks every worker copy
 * (`workers`, see fleet.ts) and shows them as one: counts and metrics summed, all
 * sessions listed, kicks, reloads and flushes passed on to the copy that holds them.
 * Backend pools (`[[upstream]]`) have their own routes (upstreams.ts).
 * @module
 */

import { toBinary, utf8 } from "../util/bytes.ts";
import type { LoginLimits } from "../limits/mod.ts";
import { addLimitRoutes } from "./limits.ts";
import { type Context, Hono } from "hono";
import { WORKER_MERGE_RULES, workerSeries } from "../metrics/mod.ts";
import type { MailproxyMetrics } from "../metrics/mod.ts";
import { sumMetricTexts } from "../metrics/mod.ts";
import type { SessionInfo, SessionRegistry } from "../session/mod.ts";
import { requireToken } from "./auth.ts";
import { askWorkers, askWorkersText, type WorkerLink } from "./fleet.ts";
import {
  mergeSessions,
  mergeStatus,
  readKilled,
  readNumber,
  readSession,
  readSessions,
  readStrings,
} from "./fleet_merge.ts";
import { openApiDocument } from "./openapi.ts";
import { filterQuery, sessionFilter, type SessionView, sessionView, sessionWorker } from "./sessions.ts";
import { pageModel, type StatusJson, statusJson, statusModel, type StatusSource } from "./status_model.ts";
import { renderStatusPage } from "./status_page.tsx";
import { addUpstreamRoutes, upstreamsView } from "./upstreams.ts";
import type { UpstreamRouter } from "../upstream/mod.ts";

export type { StatusSource } from "./status_model.ts";
export type { WorkerLink } from "./fleet.ts";

/** A worker copy gets this long to apply a reload (the other requests use the link's default). */
const WORKER_RELOAD_TIMEOUT_MS = 5000;

/** What a reload reports. */
export type ReloadOutcome =
  | { ok: true; changes: string[]; warnings: string[] }
  | { ok: false; reason: "invalid" | "stopping"; errors: string[] };

/** Something with cached auth results that can be emptied. */
export interface AuthCache {
  readonly size: number;
  clear(): void;
  /** Forgets one user's entries (`?user=`); absent = only full flushes. Returns how many. */
  flushUser?(user: string): number;
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
  /** The worker copies (in the supervisor of `worker_processes` > 1); absent = this process alone. */
  workers?: () => readonly WorkerLink[];
  /** The `[[upstream]]` router; absent = no upstreams (GET /upstreams is empty). */
  upstreams?: UpstreamRouter;
  /** The `[login_limits]` counters; absent = no `/limits` routes. */
  loginLimits?: LoginLimits;
}

/** Builds the Hono app. */
export function createAdminApp(deps: AdminDeps): Hono {
  const app = new Hono();
  const token = deps.token;
  app.use("*", requireToken(typeof token === "function" ? token : () => token));
  const links = () => deps.workers?.() ?? [];

  const upstreamDeps = { upstreams: deps.upstreams, workers: links };

  /** `/status` of every process, summed. */
  async function status(): Promise<StatusJson> {
    const own = statusJson(statusModel(deps.status, deps.registry, deps.metrics));
    const copies = links();
    const out = copies.length === 0 ? own : mergeStatus(own, await askWorkers(copies, "GET", "/status"));
    out.upstreams = await upstreamsView(upstreamDeps);
    return out;
  }

  /** The sessions of every process that match the filter given as `query`. */
  async function sessions(
    query: string,
    match: ((info: SessionInfo) => boolean) | null,
  ): Promise<SessionView[]> {
    const now = Date.now();
    const own = deps.registry.list().filter((s) => !match || match(s)).map((s) => sessionView(s, now));
    const copies = links();
    if (copies.length === 0) return own;
    const answers = await askWorkers(copies, "GET", `/sessions${query}`);
    return mergeSessions([
      own,
      ...answers.map((a) => a.status === 200 ? readSessions(a.body, a.worker) : []),
    ]);
  }

  /** The copy holding a session id with a worker prefix: its answer, or null when there is no such copy. */
  function askHolder(worker: number, method: "GET" | "DELETE", id: string) {
    const link = links().find((l) => l.index === worker);
    return link ? askWorkers([link], method, `/sessions/${encodeURIComponent(id)}`).then((a) => a[0]) : null;
  }

  app.get("/", async (c) => {
    if (links().length === 0) {
      const model = statusModel(deps.status, deps.registry, deps.metrics);
      model.upstreams = await upstreamsView(upstreamDeps);
      return c.html(renderStatusPage(model));
    }
    const [summed, list] = await Promise.all([status(), sessions("", null)]);
    return c.html(renderStatusPage(pageModel(summed, list)));
  });

  app.get("/healthz", (c) => c.text("ok\n"));

  app.get("/status", async (c) => c.json(await status()));

  app.get("/metrics", async (c) => {
    let text = deps.metrics.registry.render();
    const copies = links();
    if (copies.length > 0) {
      const texts = await askWorkersText(copies, "/metrics");
      text = sumMetricTexts([text, ...texts.filter((t) => t !== null)], WORKER_MERGE_RULES) +
        workerSeries([
          { worker: 0, up: true, restarts: 0 },
          ...copies.map((l, i) => ({ worker: l.index, up: texts[i] !== null, restarts: l.restarts })),
        ]);
    }
    return c.body(text, 200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" });
  });

  app.get("/openapi.json", (c) => c.json(openApiDocument(deps.status.version)));

  app.get("/sessions", async (c) => {
    const query = (name: string) => c.req.query(name);
    return c.json({ sessions: await sessions(filterQuery(query), sessionFilter(query)) });
  });

  app.delete("/sessions", async (c) => {
    const query = (name: string) => c.req.query(name);
    const match = sessionFilter(query);
    if (!match) {
      return c.json({
        error: "filter_required",
        message: "give a filter (user, backend, protocol or client); ending every session needs a restart",
      }, 400);
    }
    const killed = deps.registry.killWhere(match);
    const copies = links();
    if (copies.length === 0) return c.json({ killed });
    const unreachable: number[] = [];
    for (const a of await askWorkers(copies, "DELETE", `/sessions${filterQuery(query)}`)) {
      if (a.status === 200) killed.push(...readKilled(a.body));
      else unreachable.push(a.worker);
    }
    return c.json(unreachable.length > 0 ? { killed, unreachable_workers: unreachable } : { killed });
  });

  app.get("/sessions/:id", async (c) => {
    const id = c.req.param("id");
    // A copy's own admin endpoint (no workers behind it) holds all the sessions it is asked for.
    const worker = deps.workers ? sessionWorker(id) : 0;
    if (worker === 0) {
      const info = deps.registry.list().find((s) => s.id === id);
      if (info) return c.json(sessionView(info));
      return c.json({ error: "not_found", message: `no session ${id}` }, 404);
    }
    const answer = await askHolder(worker, "GET", id);
    const session = answer?.status === 200 ? readSession(answer.body, worker) : null;
    if (session) return c.json(session);
    if (answer && answer.status === null) return workerDown(c, worker);
    return c.json({ error: "not_found", message: `no session ${id}` }, 404);
  });

  app.delete("/sessions/:id", async (c) => {
    const id = c.req.param("id");
    // A copy's own admin endpoint (no workers behind it) holds all the sessions it is asked for.
    const worker = deps.workers ? sessionWorker(id) : 0;
    if (worker === 0) {
      if (deps.registry.kill(id)) return c.json({ killed: [id] });
      return c.json({ error: "not_found", message: `no session ${id}` }, 404);
    }
    const answer = await askHolder(worker, "DELETE", id);
    if (answer?.status === 200) return c.json({ killed: [id] });
    if (answer && answer.status === null) return workerDown(c, worker);
    return c.json({ error: "not_found", message: `no session ${id}` }, 404);
  });

  const reload = deps.reload;
  if (reload) {
    app.post("/reload", async (c) => {
      const r = await reload();
      if (r.ok) {
        const done = { reloaded: true, changes: r.changes, warnings: r.warnings };
        const copies = links();
        if (copies.length === 0) return c.json(done);
        // The copies read the same file; only a config the supervisor applied is passed on.
        const answers = await askWorkers(copies, "POST", "/reload", WORKER_RELOAD_TIMEOUT_MS);
        return c.json({
          ...done,
          workers: answers.map((a) =>
            a.status === 200 ? { worker: a.worker, reloaded: true } : {
              worker: a.worker,
              reloaded: false,
              errors: a.status === null ? ["the worker did not answer"] : readStrings(a.body, "errors"),
            }
          ),
        });
      }
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
    app.post("/auth-cache/flush", async (c) => {
      const user = c.req.query("user");
      let flushed: number;
      if (user !== undefined && user !== "") {
        if (!cache.flushUser) {
          return c.json({ error: "bad_request", message: "this cache can only be flushed whole" }, 400);
        }
        // Login names are kept as bytes (binary strings); the query is UTF-8 text.
        flushed = cache.flushUser(toBinary(utf8(user)));
      } else {
        flushed = cache.size;
        cache.clear();
      }
      const copies = links();
      if (copies.length === 0) return c.json({ flushed });
      const unreachable: number[] = [];
      const target = user ? `/auth-cache/flush?user=${encodeURIComponent(user)}` : "/auth-cache/flush";
      for (const a of await askWorkers(copies, "POST", target)) {
        if (a.status === 200) flushed += readNumber(a.body, "flushed");
        else unreachable.push(a.worker);
      }
      return c.json(unreachable.length > 0 ? { flushed, unreachable_workers: unreachable } : { flushed });
    });
  }

  addUpstreamRoutes(app, upstreamDeps);
  addLimitRoutes(app, { loginLimits: deps.loginLimits, workers: links });

  app.notFound((c) => c.json({ error: "not_found", message: `no route ${c.req.method} ${c.req.path}` }, 404));
  app.onError((err, c) => c.json({ error: "internal", message: err.message }, 500));
  return app;
}

/** 503 for a session held by a copy that did not answer (down, restarting or stuck). */
function workerDown(c: Context, worker: number): Response {
  return c.json({ error: "worker_unavailable", message: `worker ${worker} did not answer` }, 503);
}
