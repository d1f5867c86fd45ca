/**
 * The sessions resource of the admin API: how a live session is shown, and the
 * filters shared by listing and kicking.
 * @module
 */

import type { SessionInfo } from "../session/registry.ts";

/** A session as `GET /sessions` returns it. */
export interface SessionView {
  id: string;
  protocol: string;
  /** 0-based index of the `[[server]]` it came in on (as in `/status` listeners). */
  server: number;
  listen: string;
  client: string;
  user: string | null;
  backend: string | null;
  state: SessionInfo["state"];
  /** Client TLS details; null until client TLS exists in this build. */
  tls: null;
  /** ISO 8601 start time. */
  started: string;
  duration_seconds: number;
  bytes: { upstream: number; downstream: number };
}

/** Renders one session (never credentials: the registry holds none). */
export function sessionView(info: SessionInfo, now = Date.now()): SessionView {
  return {
    id: info.id,
    protocol: info.protocol,
    server: info.server,
    listen: info.listen,
    client: info.client,
    user: info.user ?? null,
    backend: info.backend ?? null,
    state: info.state,
    tls: null,
    started: new Date(info.startedAt).toISOString(),
    duration_seconds: Math.max(0, Math.round((now - info.startedAt) / 1000)),
    bytes: { upstream: info.bytesUp, downstream: info.bytesDown },
  };
}

/** Query parameters that select sessions. */
export const SESSION_FILTERS = ["user", "backend", "protocol", "client"] as const;

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
