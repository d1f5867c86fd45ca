/**
 * The admin routes of `[login_limits]` (lib/limits): list the counters and blocks,
 * lift a client network's or a user's. With `worker_processes` > 1 each worker copy
 * counts its own logins: the supervisor asks every copy and merges (a listed entry
 * carries the worker it came from). Only counts and times are shown: the keyed hashes
 * of wrong passwords never leave lib/limits.
 * @module
 */

import type { Context, Hono } from "hono";
import type { LimitEntry, LoginLimits } from "../limits/mod.ts";
import { askWorkers, type WorkerLink } from "./fleet.ts";
import { pathParam } from "./path_param.ts";

/** What the routes need. */
export interface LimitAdminDeps {
  /** The process's counters; absent = no routes. */
  loginLimits?: LoginLimits;
  workers: () => readonly WorkerLink[];
}

/** One entry as JSON. */
interface LimitJson {
  kind: "ip" | "user";
  key: string;
  failures: number;
  blocked_until: string | null;
  worker?: number;
}

function entryJson(e: LimitEntry): LimitJson {
  return {
    kind: e.kind,
    key: e.key,
    failures: e.failures,
    blocked_until: e.blockedUntil === null ? null : new Date(e.blockedUntil).toISOString(),
  };
}

/** Adds `GET /limits`, `DELETE /limits/ip/{prefix}` and `DELETE /limits/user/{name}`. */
export function addLimitRoutes(app: Hono, deps: LimitAdminDeps): void {
  const limits = deps.loginLimits;
  if (!limits) return;

  app.get("/limits", async (c) => {
    const ip = c.req.query("ip") || undefined;
    const user = c.req.query("user") || undefined;
    const own = limits.list({ ip, user }, Date.now()).map(entryJson);
    const copies = deps.workers();
    if (copies.length === 0) return c.json({ entries: own });
    const query = new URLSearchParams();
    if (ip) query.set("ip", ip);
    if (user) query.set("user", user);
    const q = query.size > 0 ? `?${query}` : "";
    const entries = [...own];
    const unreachable: number[] = [];
    for (const a of await askWorkers(copies, "GET", `/limits${q}`)) {
      const list = (a.body as { entries?: LimitJson[] } | null)?.entries;
      if (a.status === 200 && Array.isArray(list)) {
        entries.push(...list.map((e) => ({ ...e, worker: a.worker })));
      } else unreachable.push(a.worker);
    }
    return c.json(unreachable.length > 0 ? { entries, unreachable_workers: unreachable } : { entries });
  });

  async function lift(c: Context, kind: "ip" | "user", key: string, own: boolean): Promise<Response> {
    let lifted = own ? 1 : 0;
    const copies = deps.workers();
    const unreachable: number[] = [];
    if (copies.length > 0) {
      for (const a of await askWorkers(copies, "DELETE", `/limits/${kind}/${encodeURIComponent(key)}`)) {
        if (a.status === 200) lifted += 1;
        else if (a.status !== 404) unreachable.push(a.worker);
      }
    }
    if (lifted === 0 && unreachable.length === 0) {
      return c.json({ error: "not_found", message: `no login limit counter for ${kind} ${key}` }, 404);
    }
    const body = { kind, key, lifted: true };
    return c.json(unreachable.length > 0 ? { ...body, unreachable_workers: unreachable } : body);
  }

  app.delete("/limits/ip/:prefix", (c) => {
    const key = pathParam(c, "prefix");
    return lift(c, "ip", key, limits.liftIp(key));
  });
  app.delete("/limits/user/:name", (c) => {
    const key = pathParam(c, "name");
    return lift(c, "user", key, limits.liftUser(key));
  });
}
