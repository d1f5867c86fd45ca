/**
 * Combining what the worker copies of `worker_processes` answered with the supervisor's own
 * view: their `/status` bodies summed into one, their sessions listed under ids unique across
 * workers. Replies are read field by field with defaults, so a malformed one (or one from a
 * copy of another version) gives zeros or a "down" entry, never an exception or foreign
 * fields in the output.
 * @module
 */

import type { SessionView } from "./sessions.ts";
import { emptyBackendHealth, type StatusJson, type WorkerEntry } from "./status_model.ts";

/** What one copy answered to one request. */
export interface WorkerAnswer {
  worker: number;
  pid: number | null;
  restarts: number;
  /** HTTP status, or null when the copy is down or did not answer in time. */
  status: number | null;
  /** The reply body parsed as JSON; undefined when it was not JSON (or there was none). */
  body: unknown;
}

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? v as Obj : {};
}

function num(v: unknown): number {
  return typeof v === "number" && Number.isFinite(v) ? v : 0;
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

function strOrNull(v: unknown): string | null {
  return typeof v === "string" ? v : null;
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** Strings of a JSON array; other items are dropped. */
function strings(v: unknown): string[] {
  return list(v).filter((s): s is string => typeof s === "string");
}

/** A copy's session as the supervisor lists it (with its worker index); null if unusable. */
export function readSession(v: unknown, worker: number): SessionView | null {
  const s = obj(v);
  if (typeof s.id !== "string" || s.id === "") return null;
  const bytes = obj(s.bytes);
  return {
    id: s.id,
    worker,
    protocol: str(s.protocol),
    server: num(s.server),
    listen: str(s.listen),
    client: str(s.client),
    user: strOrNull(s.user),
    backend: strOrNull(s.backend),
    state: str(s.state) as SessionView["state"],
    tls: s.tls !== null && typeof s.tls === "object"
      ? {
        protocol: strOrNull(obj(s.tls).protocol),
        cipher: strOrNull(obj(s.tls).cipher),
        verify: strOrNull(obj(s.tls).verify),
      }
      : null,
    started: str(s.started),
    duration_seconds: num(s.duration_seconds),
    bytes: { upstream: num(bytes.upstream), downstream: num(bytes.downstream) },
  };
}

/** The sessions of a `{sessions: [...]}` reply. */
export function readSessions(body: unknown, worker: number): SessionView[] {
  return list(obj(body).sessions).map((s) => readSession(s, worker)).filter((s) => s !== null);
}

/** A copy's session ids of a `{killed: [...]}` reply. */
export function readKilled(body: unknown): string[] {
  return strings(obj(body).killed);
}

/** Every session, oldest first (ISO start times sort as strings; ties keep worker order). */
export function mergeSessions(groups: SessionView[][]): SessionView[] {
  return groups.flat().sort((a, b) => (a.started < b.started ? -1 : a.started > b.started ? 1 : 0));
}

/**
 * The supervisor's `/status` with the copies' answers to `GET /status` added: session and
 * login counts, login rates, per-listener sessions, auth and backend numbers are summed
 * (averages weighted by their counts); version, uptime, config and last reload stay the
 * supervisor's. Each copy gets a `workers` entry, down when it gave no usable answer.
 */
export function mergeStatus(local: StatusJson, answers: WorkerAnswer[]): StatusJson {
  const out: StatusJson = structuredClone(local);
  for (const answer of answers) {
    const body = obj(answer.body);
    const sessions = obj(body.sessions);
    const up = answer.status === 200 && typeof sessions.active === "number";
    out.workers.push(
      {
        worker: answer.worker,
        pid: answer.pid,
        up,
        restarts: answer.restarts,
        sessions: up ? num(sessions.active) : null,
        uptime_seconds: up ? num(body.uptime_seconds) : null,
      } satisfies WorkerEntry,
    );
    if (!up) continue;
    out.sessions.active += num(sessions.active);
    const byProtocol = obj(sessions.by_protocol);
    for (const p of Object.keys(out.sessions.by_protocol)) out.sessions.by_protocol[p] += num(byProtocol[p]);
    const logins = obj(body.logins);
    const rates = obj(body.login_rates);
    for (const r of ["ok", "failed", "error"] as const) {
      out.logins[r] += num(logins[r]);
      const w = obj(rates[r]);
      for (const k of ["m1", "m5", "m15", "total"] as const) out.login_rates[r][k] += num(w[k]);
    }
    addHistory(out, obj(body.history));
    addListeners(out, list(body.listeners));
    addAuth(out, list(body.auth));
    addBackends(out, list(body.backends));
  }
  return out;
}

/** Per-minute charts: the workers' values added minute by minute. */
function addHistory(out: StatusJson, history: Record<string, unknown>): void {
  if (!out.history) return;
  for (const key of ["logins", "sessions"] as const) {
    const theirs = list(history[key]);
    out.history[key] = out.history[key].map((v, i) => v + num(theirs[i]));
  }
}

function addListeners(out: StatusJson, listeners: unknown[]): void {
  for (const v of listeners) {
    const l = obj(v);
    const server = num(l.server);
    const listen = str(l.listen);
    const mine = out.listeners.find((x) => x.server === server && x.listen === listen);
    if (mine) mine.sessions += num(l.sessions);
    else if (listen) {
      // Only a copy listens there (a reload it applied and the supervisor did not).
      out.listeners.push({
        server,
        protocol: str(l.protocol),
        listen,
        address: str(l.address),
        sessions: num(l.sessions),
      });
    }
  }
}

function addAuth(out: StatusJson, auth: unknown[]): void {
  for (const v of auth) {
    const a = obj(v);
    const provider = str(a.provider);
    if (!provider) continue;
    let mine = out.auth.find((x) => x.provider === provider);
    if (!mine) {
      mine = { provider, requests: 0, avg_ms: 0, errors: 0 };
      out.auth.push(mine);
    }
    mine.avg_ms = weighted(mine.avg_ms, mine.requests, num(a.avg_ms), num(a.requests)) ?? 0;
    mine.requests += num(a.requests);
    mine.errors += num(a.errors);
  }
}

function addBackends(out: StatusJson, backends: unknown[]): void {
  for (const v of backends) {
    const b = obj(v);
    const backend = str(b.backend);
    if (!backend) continue;
    let mine = out.backends.find((x) => x.backend === backend);
    if (!mine) {
      mine = emptyBackendHealth(backend);
      out.backends.push(mine);
    }
    mine.connect_avg_ms = weighted(mine.connect_avg_ms, mine.connects, b.connect_avg_ms, num(b.connects));
    mine.login_avg_ms = weighted(mine.login_avg_ms, mine.logins, b.login_avg_ms, num(b.logins));
    mine.connects += num(b.connects);
    mine.logins += num(b.logins);
    mine.connect_failures += num(b.connect_failures);
    mine.login_failures += num(b.login_failures);
  }
  out.backends.sort((a, b) => a.backend.localeCompare(b.backend));
}

/** The average of two averages weighted by their counts (ms, one decimal); null with no count. */
function weighted(a: number | null, na: number, b: unknown, nb: number): number | null {
  const bv = typeof b === "number" && Number.isFinite(b) && nb > 0 ? b : null;
  if (a === null || na <= 0) return bv ?? a;
  if (bv === null) return a;
  return Math.round((a * na + bv * nb) / (na + nb) * 10) / 10;
}

/** A number field of a reply object (0 when missing or not a number). */
export function readNumber(body: unknown, key: string): number {
  return num(obj(body)[key]);
}

/** A string-array field of a reply object (e.g. a refused reload's errors). */
export function readStrings(body: unknown, key: string): string[] {
  return strings(obj(body)[key]);
}
