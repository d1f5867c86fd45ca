/**
 * The admin routes of backend upstreams (lib/upstream): list the pools, change a server's
 * state or weight, flush a server, and read, pin or forget a user's route — Dovecot's
 * `doveadm director status/move/flush/remove`. With `worker_processes` > 1 every change is
 * passed on to each worker copy (each keeps its own sessions and sticky routes); the
 * copies get the request's fields as query parameters, as their private endpoint carries
 * no body.
 * @module
 */

import type { Context, Hono } from "hono";
import { RouteError, type UpstreamRouter, type UpstreamStatus } from "../upstream/mod.ts";
import { askWorkers, type WorkerLink } from "./fleet.ts";
import { pathParam } from "./path_param.ts";

/** What the routes need. */
export interface UpstreamAdminDeps {
  /** The router; absent = the process has none (the list is empty, the rest 404). */
  upstreams?: UpstreamRouter;
  workers: () => readonly WorkerLink[];
}

const STATES = ["up", "drain", "down"] as const;
type State = typeof STATES[number];

/** The request's fields: the JSON body (when any), then the query string. */
async function fields(c: Context): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(c.req.query())) out[k] = v;
  const text = await c.req.text();
  if (text.trim() !== "") {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new RouteError(400, "the body is not JSON");
    }
    if (body === null || typeof body !== "object" || Array.isArray(body)) {
      throw new RouteError(400, "the body must be a JSON object");
    }
    Object.assign(out, body);
  }
  return out;
}

function fail(c: Context, err: unknown): Response {
  if (err instanceof RouteError) {
    const code = err.status === 404 ? "not_found" : err.status === 409 ? "conflict" : "bad_request";
    return c.json({ error: code, message: err.message }, err.status);
  }
  throw err;
}

/** Passes a change on to every worker copy; the indexes of those that did not take it. */
async function fanOut(
  links: readonly WorkerLink[],
  method: "POST" | "DELETE",
  target: string,
): Promise<number[]> {
  if (links.length === 0) return [];
  const answers = await askWorkers(links, method, target);
  return answers.filter((a) => a.status === null || a.status >= 500).map((a) => a.worker);
}

function withUnreachable(body: Record<string, unknown>, unreachable: number[]): Record<string, unknown> {
  return unreachable.length > 0 ? { ...body, unreachable_workers: unreachable } : body;
}

/** Merges the copies' views into the supervisor's: sessions and users summed, healthy only if everywhere. */
function mergeUpstreams(own: UpstreamStatus[], others: unknown[]): UpstreamStatus[] {
  for (const other of others) {
    const list = (other as { upstreams?: UpstreamStatus[] } | undefined)?.upstreams;
    if (!Array.isArray(list)) continue;
    for (const u of own) {
      const theirs = list.find((x) => x?.name === u.name);
      for (const s of u.servers) {
        const t = theirs?.servers?.find((x) => x?.address === s.address);
        if (!t) continue;
        s.sessions += Number(t.sessions) || 0;
        s.users += Number(t.users) || 0;
        s.healthy = s.healthy && t.healthy !== false;
      }
    }
  }
  return own;
}

/** Every upstream as this process and its worker copies see it together (`GET /upstreams`, the status page). */
export async function upstreamsView(deps: UpstreamAdminDeps): Promise<UpstreamStatus[]> {
  const own = deps.upstreams ? await deps.upstreams.status() : [];
  const links = deps.workers();
  if (links.length === 0 || own.length === 0) return own;
  const answers = await askWorkers(links, "GET", "/upstreams");
  return mergeUpstreams(own, answers.map((a) => a.body));
}

/** Adds the upstream routes to the admin app. */
export function addUpstreamRoutes(app: Hono, deps: UpstreamAdminDeps): void {
  const router = () => {
    if (!deps.upstreams) throw new RouteError(404, "no [[upstream]] is configured");
    return deps.upstreams;
  };

  app.get("/upstreams", async (c) => c.json({ upstreams: await upstreamsView(deps) }));

  app.post("/upstreams/:name/servers/:address", async (c) => {
    try {
      const name = pathParam(c, "name");
      const address = pathParam(c, "address");
      const f = await fields(c);
      const change: { state?: State; weight?: number } = {};
      if (f.state !== undefined) {
        if (!STATES.includes(f.state as State)) {
          throw new RouteError(400, 'state must be "up", "drain" or "down"');
        }
        change.state = f.state as State;
      }
      if (f.weight !== undefined) {
        const w = Number(f.weight);
        if (!Number.isInteger(w) || w < 1 || w > 1000) {
          throw new RouteError(400, "weight must be an integer 1-1000");
        }
        change.weight = w;
      }
      if (change.state === undefined && change.weight === undefined) {
        throw new RouteError(400, 'give "state" and/or "weight"');
      }
      const server = await router().setServer(name, address, change);
      const query = new URLSearchParams(Object.entries(change).map(([k, v]) => [k, String(v)]));
      const target = `/upstreams/${encodeURIComponent(name)}/servers/${encodeURIComponent(address)}?${query}`;
      return c.json(
        withUnreachable({ upstream: name, server }, await fanOut(deps.workers(), "POST", target)),
      );
    } catch (err) {
      return fail(c, err);
    }
  });

  app.post("/upstreams/:name/servers/:address/flush", async (c) => {
    try {
      const name = pathParam(c, "name");
      const address = pathParam(c, "address");
      const r = await router().flush(name, address);
      const links = deps.workers();
      const unreachable: number[] = [];
      if (links.length > 0) {
        const target = `/upstreams/${encodeURIComponent(name)}/servers/${encodeURIComponent(address)}/flush`;
        for (const a of await askWorkers(links, "POST", target)) {
          const body = a.body as { sessions?: number; routes?: number } | undefined;
          if (a.status === 200) {
            r.sessions += Number(body?.sessions) || 0;
            r.routes += Number(body?.routes) || 0;
          } else unreachable.push(a.worker);
        }
      }
      return c.json(withUnreachable({ upstream: name, server: address, ...r }, unreachable));
    } catch (err) {
      return fail(c, err);
    }
  });

  app.get("/routes/:user", async (c) => {
    try {
      const routes = await router().route(pathParam(c, "user"), c.req.query("upstream"));
      // The first upstream's route at the top level, every upstream's in `routes`.
      return c.json({ user: pathParam(c, "user"), ...(routes[0] ?? {}), routes });
    } catch (err) {
      return fail(c, err);
    }
  });

  const pin = async (c: Context) => {
    try {
      const user = pathParam(c, "user");
      const f = await fields(c);
      if (typeof f.server !== "string" || f.server === "") {
        throw new RouteError(400, 'give "server": "host:port"');
      }
      const upstream = typeof f.upstream === "string" && f.upstream !== "" ? f.upstream : undefined;
      const r = await router().pin(user, f.server, upstream);
      const query = new URLSearchParams({ server: f.server, upstream: r.upstream });
      const links = deps.workers();
      let kicked = r.kicked;
      const unreachable: number[] = [];
      if (links.length > 0) {
        for (const a of await askWorkers(links, "POST", `/routes/${encodeURIComponent(user)}?${query}`)) {
          if (a.status === 200) kicked += Number((a.body as { kicked?: number } | undefined)?.kicked) || 0;
          else unreachable.push(a.worker);
        }
      }
      return c.json(
        withUnreachable({ user, upstream: r.upstream, server: f.server, source: "pin", kicked }, unreachable),
      );
    } catch (err) {
      return fail(c, err);
    }
  };
  app.put("/routes/:user", pin);
  // The same as PUT, for worker copies (their private endpoint takes GET, POST and DELETE).
  app.post("/routes/:user", pin);

  app.delete("/routes/:user", async (c) => {
    try {
      const user = pathParam(c, "user");
      const only = c.req.query("upstream");
      const removed = await router().unpin(user, only);
      const query = only ? `?upstream=${encodeURIComponent(only)}` : "";
      const unreachable = await fanOut(
        deps.workers(),
        "DELETE",
        `/routes/${encodeURIComponent(user)}${query}`,
      );
      return c.json(withUnreachable({ user, pins_removed: removed }, unreachable));
    } catch (err) {
      return fail(c, err);
    }
  });
}
