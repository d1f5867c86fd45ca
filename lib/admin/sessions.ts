/**
 * The sessions resource of the admin API: how a live session is shown, and the
 * filters shared by listing and kicking.
 * @module
 */

import type { SessionInfo, SessionTlsInfo } from "../session/mod.ts";

/** A session as `GET /sessions` returns it. */
export interface SessionView {
  /** Unique over all worker processes: a copy's session ids carry its index (see {@link qualifiedId}). */
  id: string;
  /** The worker process holding it (0 = the supervisor, or the only process). */
  worker: number;
  protocol: string;
  /** 0-based index of the `[[server]]` it came in on (as in `/status` listeners). */
  server: number;
  listen: string;
  client: string;
  user: string | null;
  backend: string | null;
  state: SessionInfo["state"];
  /** The client's TLS (protocol, cipher, client certificate check) once its handshake passed; null in clear. */
  tls: SessionTlsInfo | null;
  /** ISO 8601 start time. */
  started: string;
  duration_seconds: number;
  bytes: { upstream: number; downstream: number };
}

/** Renders one session (never credentials: the registry holds none). */
export function sessionView(info: SessionInfo, now = Date.now()): SessionView {
  return {
    id: info.id,
    worker: 0,
    protocol: info.protocol,
    server: info.server,
    listen: info.listen,
    client: info.client,
    user: info.user ?? null,
    backend: info.backend ?? null,
    state: info.state,
    tls: info.tls ? { ...info.tls } : null,
    started: new Date(info.startedAt).toISOString(),
    duration_seconds: Math.max(0, Math.round((now - info.startedAt) / 1000)),
    bytes: { upstream: info.bytesUp, downstream: info.bytesDown },
  };
}

/** Query parameters that select sessions. */
export const SESSION_FILTERS = ["user", "backend", "protocol", "client"] as const;

/** The filter query parameters that were given, as a query string to pass on (`""` for none). */
export function filterQuery(query: (name: string) => string | undefined): string {
  const params = new URLSearchParams();
  for (const name of SESSION_FILTERS) {
    const v = query(name);
    if (v !== undefined) params.set(name, v);
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** A filter from query parameters; `null` when none was given. */
export function sessionFilter(
  query: (name: string) => string | undefined,
): ((info: SessionInfo) => boolean) | null {
  const wanted: [typeof SESSION_FILTERS[number], string][] = [];
  for (const name of SESSION_FILTERS) {
    const v = query(name);
    if (v !== undefined) wanted.push([name, v]);
  }
  if (wanted.length === 0) return null;
  return (info) => wanted.every(([name, v]) => (info[name] ?? "") === v);
}

/**
 * Which worker process holds a session: a copy names its sessions `w<index>-…` (set by the
 * copy itself, lib/session/registry.ts, so its log lines show the same id); the
 * supervisor's own ids are plain (0).
 */
export function sessionWorker(id: string): number {
  const m = /^w([1-9]\d{0,3})-./.exec(id);
  return m ? Number(m[1]) : 0;
}
