/**
 * What the status page and `/status` show, computed from the registry and the
 * metrics. Backend health is what mailproxy can observe without probing: login
 * latency and failures per backend address, from real sessions.
 * @module
 */

import process from "node:process";
import type { LoginResult, MailproxyMetrics } from "../metrics/mod.ts";
import type { SessionRegistry } from "../session/mod.ts";
import type { UpstreamStatus } from "../upstream/mod.ts";
import { type SessionView, sessionView } from "./sessions.ts";

/** One bound listener. */
export interface ListenerInfo {
  server: number;
  protocol: string;
  listen: string;
  address?: string;
}

/** Process facts the admin API reports. */
export interface StatusSource {
  version: string;
  runtime: string;
  startedAt: number;
  listeners: () => ListenerInfo[];
  /** Absolute path of the running config file, when there is one. */
  configFile?: () => string;
  /** The last reload: when, and whether it applied. */
  lastReload?: () => { at: number; ok: boolean; errors: string[] } | null;
}

/** Per-backend numbers from the metrics. */
export interface BackendHealth {
  backend: string;
  logins: number;
  /** Successful TCP connects (the weight of `connect_avg_ms`). */
  connects: number;
  connect_avg_ms: number | null;
  login_avg_ms: number | null;
  connect_failures: number;
  login_failures: number;
}

/** Everything on the status page. */
export interface StatusModel {
  version: string;
  runtime: string;
  uptime_seconds: number;
  config_file: string | null;
  last_reload: { at: string; ok: boolean; errors: string[] } | null;
  listeners: (ListenerInfo & { sessions: number })[];
  sessions: SessionView[];
  /** Logins per result in the last 1, 5 and 15 minutes, and since start. */
  logins: Record<LoginResult, { m1: number; m5: number; m15: number; total: number }>;
  auth: { provider: string; requests: number; avg_ms: number; errors: number }[];
  backends: BackendHealth[];
  /** The processes of `worker_processes`: this one alone, or the supervisor's whole view. */
  workers: WorkerEntry[];
  /** Backend pools with their servers (filled in by the admin app; empty without `[[upstream]]`). */
  upstreams: UpstreamStatus[];
  /** Per minute over the last hour, oldest first: successful logins, and the most sessions open. */
  history: { logins: number[]; sessions: number[] };
}

/** One worker process as `/status` lists it. */
export interface WorkerEntry {
  /** 0 = the supervisor (the process the admin API runs in); 1… = its copies. */
  worker: number;
  /** Null while the supervisor has no running process for it (restarting). */
  pid: number | null;
  /** It answered the supervisor within the timeout just now. */
  up: boolean;
  /** Times the supervisor restarted it. */
  restarts: number;
  /** Its live sessions; null when down. */
  sessions: number | null;
  uptime_seconds: number | null;
}

/** The body of `GET /status`: the model with session counts instead of the session list. */
export interface StatusJson extends Omit<StatusModel, "sessions" | "logins"> {
  sessions: { active: number; by_protocol: Record<string, number> };
  /** Logins per result since start. */
  logins: Record<LoginResult, number>;
  login_rates: StatusModel["logins"];
}

/** `GET /status` from the model. */
export function statusJson(model: StatusModel): StatusJson {
  const { sessions, logins, ...rest } = model;
  const byProtocol: Record<string, number> = { imap: 0, pop3: 0, smtp: 0, sieve: 0 };
  for (const s of sessions) byProtocol[s.protocol] = (byProtocol[s.protocol] ?? 0) + 1;
  return {
    ...rest,
    sessions: { active: sessions.length, by_protocol: byProtocol },
    logins: { ok: logins.ok.total, failed: logins.failed.total, error: logins.error.total },
    login_rates: logins,
  };
}

/** The status page's model from a (merged) `/status` body and the (merged) session list. */
export function pageModel(status: StatusJson, sessions: SessionView[]): StatusModel {
  const { sessions: _, logins: __, login_rates, ...rest } = status;
  return { ...rest, sessions, logins: login_rates };
}

const RESULTS: LoginResult[] = ["ok", "failed", "error"];

/** Builds the model at `now`. */
export function statusModel(
  source: StatusSource,
  registry: SessionRegistry,
  metrics: MailproxyMetrics,
  now = Date.now(),
): StatusModel {
  const sessions = registry.list().map((s) => sessionView(s, now));
  const perListen = new Map<string, number>();
  for (const s of sessions) {
    const key = `${s.server}\0${s.listen}`;
    perListen.set(key, (perListen.get(key) ?? 0) + 1);
  }
  const totals: Record<string, number> = { ok: 0, failed: 0, error: 0 };
  for (const { labels, value } of metrics.logins.series()) totals[labels.result] += value;
  const logins = Object.fromEntries(RESULTS.map((r) => {
    const w = metrics.loginRates[r];
    return [r, { m1: w.sum(60_000), m5: w.sum(300_000), m15: w.sum(900_000), total: totals[r] ?? 0 }];
  })) as StatusModel["logins"];
  metrics.sessionHistory.record(sessions.length);
  const last = source.lastReload?.() ?? null;
  const uptime = Math.round((now - source.startedAt) / 1000);
  return {
    version: source.version,
    runtime: source.runtime,
    uptime_seconds: uptime,
    config_file: source.configFile?.() ?? null,
    last_reload: last && { at: new Date(last.at).toISOString(), ok: last.ok, errors: last.errors },
    listeners: source.listeners().map((l) => ({
      ...l,
      sessions: perListen.get(`${l.server}\0${l.listen}`) ?? 0,
    })),
    sessions,
    logins,
    auth: authStats(metrics),
    backends: backendHealth(metrics),
    workers: [{
      worker: 0,
      pid: process.pid,
      up: true,
      restarts: 0,
      sessions: sessions.length,
      uptime_seconds: uptime,
    }],
    upstreams: [],
    history: { logins: metrics.loginHistory.series(), sessions: metrics.sessionHistory.series() },
  };
}

function authStats(metrics: MailproxyMetrics): StatusModel["auth"] {
  const errors = new Map(metrics.authErrors.series().map((s) => [s.labels.provider, s.value]));
  return metrics.authDuration.series().map((s) => ({
    provider: s.labels.provider,
    requests: s.count,
    avg_ms: s.count ? round(s.sum / s.count * 1000) : 0,
    errors: errors.get(s.labels.provider) ?? 0,
  }));
}

/** A backend's health before any event was counted. */
export function emptyBackendHealth(backend: string): BackendHealth {
  return {
    backend,
    logins: 0,
    connects: 0,
    connect_avg_ms: null,
    login_avg_ms: null,
    connect_failures: 0,
    login_failures: 0,
  };
}

function backendHealth(metrics: MailproxyMetrics): BackendHealth[] {
  const byName = new Map<string, BackendHealth>();
  const get = (backend: string) => {
    let b = byName.get(backend);
    if (!b) {
      b = emptyBackendHealth(backend);
      byName.set(backend, b);
    }
    return b;
  };
  for (const s of metrics.backendConnectDuration.series()) {
    const b = get(s.labels.backend);
    b.connects = s.count;
    if (s.count) b.connect_avg_ms = round(s.sum / s.count * 1000);
  }
  for (const s of metrics.backendLoginDuration.series()) {
    const b = get(s.labels.backend);
    b.logins = s.count;
    if (s.count) b.login_avg_ms = round(s.sum / s.count * 1000);
  }
  for (const s of metrics.backendFailures.series()) {
    const b = get(s.labels.backend);
    if (s.labels.stage === "connect") b.connect_failures += s.value;
    else b.login_failures += s.value;
  }
  return [...byName.values()].sort((a, b) => a.backend.localeCompare(b.backend));
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
