/**
 * The private channel between the supervisor of `worker_processes` and its worker copies,
 * through which the supervisor's admin API shows all of them as one (lib/admin/fleet.ts).
 *
 * Each copy serves its ordinary admin app (the same Hono routes as the public admin API,
 * without a token) on a UNIX socket `worker-<i>.sock` in a directory the supervisor creates
 * with mode 0700 and passes down in {@link WORKER_ADMIN_ENV}; only the supervisor connects.
 * Chosen over the alternatives on purpose:
 * - No second protocol: the copies answer with the very code and JSON shapes the admin API
 *   already has and tests, so the supervisor only adds up replies it knows.
 * - Access control by the kernel: only the user mailproxy runs as can enter a 0700
 *   directory, and that user could signal or trace the copies anyway. Nothing listens on
 *   the network, so there is no port to collide or be scanned and no token to hand around
 *   (or to leak into a log or a process listing); the admin token never leaves the supervisor.
 * - Request/response with per-request timeouts: HTTP gives framing, concurrent requests
 *   and an AbortSignal per request, so a copy that is down (no socket: refused at once)
 *   or stuck (accepts but never answers) costs at most {@link WORKER_ADMIN_TIMEOUT_MS}.
 *   Line-delimited JSON over the child's stdin/stdout would need our own framing, request
 *   ids and timeouts, and any stray write to stdout (a runtime warning) would corrupt it;
 *   Node's IPC channel (`process.send`) is emulated differently by Deno and Bun.
 * - Both runtimes do it natively: `Deno.serve({ path })` with `Deno.createHttpClient({
 *   proxy: { transport: "unix" } })`, and `Bun.serve({ unix })` with `fetch(…, { unix })`.
 * @module
 */

import { chmodSync, mkdtempSync, rmSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { WorkerReply } from "../admin/mod.ts";
import { type HttpServer, serveHttpUnix } from "../admin/mod.ts";

/** Set in a copy's environment to the UNIX socket path of its private admin endpoint. */
export const WORKER_ADMIN_ENV = "MAILPROXY_WORKER_ADMIN";

/** How long the supervisor waits for a copy before reporting it down. */
export const WORKER_ADMIN_TIMEOUT_MS = 1000;

/** Creates the supervisor's private directory (mode 0700) for the copies' sockets. */
export function createPrivateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "mailproxy-ipc-"));
  chmodSync(dir, 0o700);
  return dir;
}

/** Removes the private directory and the sockets in it. */
export function removePrivateDir(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    // Already gone; nothing else uses it.
  }
}

/** The socket of copy `index` in `dir`. */
export function workerSocketPath(dir: string, index: number): string {
  return join(dir, `worker-${index}.sock`);
}

/** Removes a socket file left by a copy that died (the next copy binds the same path). */
export function removeStaleSocket(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Not there.
  }
}

/** In a copy: serves `handler` on its private socket `path`. */
export function serveWorkerAdmin(
  path: string,
  handler: (request: Request) => Response | Promise<Response>,
): Promise<HttpServer> {
  removeStaleSocket(path);
  return serveHttpUnix(path, handler);
}

interface BunFetchInit extends RequestInit {
  unix?: string;
}

/**
 * In the supervisor: one request to the copy listening on `path`; null when it is down or
 * the complete reply did not arrive within `timeoutMs`. Never rejects, and the reason of a
 * failure is not passed on (the caller reports the copy as down).
 */
export async function requestWorker(
  path: string,
  method: "GET" | "POST" | "DELETE",
  target: string,
  timeoutMs = WORKER_ADMIN_TIMEOUT_MS,
): Promise<WorkerReply | null> {
  const url = `http://mailproxy-worker${target}`;
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    if ("Bun" in globalThis) {
      const res = await fetch(url, { method, signal, unix: path } as BunFetchInit);
      return { status: res.status, text: await res.text() };
    }
    // A client per request: a pooled connection would outlive a copy that was restarted.
    const client = Deno.createHttpClient({ proxy: { transport: "unix", path } });
    try {
      const res = await fetch(url, { method, signal, client });
      return { status: res.status, text: await res.text() };
    } finally {
      client.close();
    }
  } catch {
    return null;
  }
}
