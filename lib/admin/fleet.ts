/**
 * How the supervisor's admin API reaches the worker copies of `worker_processes`: each copy
 * is a {@link WorkerLink} that forwards one admin request to that copy's private admin
 * endpoint (lib/server/worker_admin.ts says how and why). Every copy is asked at once, and a
 * copy that is down, restarting or slow counts as down after the link's short timeout, so
 * the admin API never hangs on one.
 * @module
 */

import type { WorkerAnswer } from "./fleet_merge.ts";

export type { WorkerAnswer } from "./fleet_merge.ts";

/** A copy's raw reply. */
export interface WorkerReply {
  status: number;
  text: string;
}

/** One worker copy (index 1…N-1) as the supervisor sees it. */
export interface WorkerLink {
  readonly index: number;
  /** Null while no process runs for it (it exited and is about to be restarted). */
  readonly pid: number | null;
  /** Times the supervisor restarted it. */
  readonly restarts: number;
  /**
   * Sends an admin request (`target` = path and query) to the copy; null when it is down or
   * gave no complete reply within `timeoutMs` (default: the link's short timeout). Never rejects.
   */
  request(method: "GET" | "POST" | "DELETE", target: string, timeoutMs?: number): Promise<WorkerReply | null>;
}

/** Asks every copy at once; the answers in link order, JSON bodies parsed. */
export async function askWorkers(
  links: readonly WorkerLink[],
  method: "GET" | "POST" | "DELETE",
  target: string,
  timeoutMs?: number,
): Promise<WorkerAnswer[]> {
  return await Promise.all(links.map(async (link): Promise<WorkerAnswer> => {
    const pid = link.pid;
    const reply = pid === null ? null : await link.request(method, target, timeoutMs).catch(() => null);
    return {
      worker: link.index,
      pid,
      restarts: link.restarts,
      status: reply?.status ?? null,
      body: json(reply),
    };
  }));
}

/** Asks every copy for its Prometheus text; null for a copy that gave none. */
export async function askWorkersText(
  links: readonly WorkerLink[],
  target: string,
): Promise<(string | null)[]> {
  return await Promise.all(links.map(async (link) => {
    if (link.pid === null) return null;
    const reply = await link.request("GET", target).catch(() => null);
    return reply?.status === 200 ? reply.text : null;
  }));
}

function json(reply: WorkerReply | null): unknown {
  if (!reply) return undefined;
  try {
    return JSON.parse(reply.text);
  } catch {
    return undefined;
  }
}
