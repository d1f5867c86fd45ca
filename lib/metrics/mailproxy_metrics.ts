/**
 * The metrics mailproxy exports. Names follow Prometheus conventions: `_total`
 * for counters, base units (seconds, bytes), `mailproxy_` prefix. Labels are
 * bounded sets (server index, protocol, method, result, backend address): never
 * user names or session ids.
 *
 * Refusals by access rules and connection limits are counted in
 * `mailproxy_connections_refused_total`; there is no other throttling (no login rate
 * limits) and so no series for it. The TLS series are created at 0 per server and
 * count once client TLS lands.
 * @module
 */

import { Counter, Gauge, Histogram, Registry } from "./registry.ts";
import type { MergeRule } from "./sum.ts";
import { MinuteHistory } from "./history.ts";
import { RateWindow } from "./window.ts";

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * How the supervisor combines the series of its worker copies (`worker_processes`, see
 * `sum.ts`): every series is summed, except these gauges, which are not amounts. Build info
 * stays 1, the start time is the earliest process's, "last reload successful" is 0 when any
 * process refused the last reload, and its timestamp is that of the oldest running config.
 */
export const WORKER_MERGE_RULES: Readonly<Record<string, MergeRule>> = {
  mailproxy_build_info: "max",
  process_start_time_seconds: "min",
  mailproxy_config_last_reload_successful: "min",
  mailproxy_config_last_reload_success_timestamp_seconds: "min",
  // Each worker checks every server itself: up only if all of them see it up.
  mailproxy_upstream_server_up: "min",
  mailproxy_upstream_server_state: "max",
};

/** Login results the rate windows keep apart. */
export type LoginResult = "ok" | "failed" | "error";

/** All series of one mailproxy process. */
export class MailproxyMetrics {
  readonly registry = new Registry();
  /** Logins per result over recent minutes, for the status page. */
  readonly loginRates: Record<LoginResult, RateWindow> = {
    ok: new RateWindow(),
    failed: new RateWindow(),
    error: new RateWindow(),
  };
  /** Successful logins per minute over the last hour (status page chart). */
  readonly loginHistory = new MinuteHistory("sum");
  /** The most sessions open in each minute of the last hour (sampled by the process; status page chart). */
  readonly sessionHistory = new MinuteHistory("max");
  readonly buildInfo = this.registry.register(
    new Gauge("mailproxy_build_info", "Always 1; labels name the mailproxy version and the runtime."),
  );
  readonly startTime = this.registry.register(
    new Gauge("process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds."),
  );
  readonly connectionsAccepted = this.registry.register(
    new Counter(
      "mailproxy_connections_accepted_total",
      "Client connections accepted, by server and protocol.",
    ),
  );
  readonly connectionsActive = this.registry.register(
    new Gauge("mailproxy_connections_active", "Client connections open now, by server and protocol."),
  );
  readonly logins = this.registry.register(
    new Counter(
      "mailproxy_logins_total",
      "Login attempts by protocol, auth method and result (ok, failed, error, blocked by login_limits).",
      (labels, n) => {
        this.loginRates[labels.result as LoginResult]?.add(n);
        if (labels.result === "ok") this.loginHistory.record(n);
      },
    ),
  );
  readonly authDuration = this.registry.register(
    new Histogram(
      "mailproxy_auth_request_duration_seconds",
      "Time the auth provider took per request.",
      LATENCY_BUCKETS,
    ),
  );
  readonly authErrors = this.registry.register(
    new Counter(
      "mailproxy_auth_errors_total",
      "Auth exchanges that broke (timeout, bad reply), by provider.",
    ),
  );
  readonly backendConnectDuration = this.registry.register(
    new Histogram(
      "mailproxy_backend_connect_duration_seconds",
      "Time to open the TCP connection to the backend, by backend.",
      LATENCY_BUCKETS,
    ),
  );
  readonly backendLoginDuration = this.registry.register(
    new Histogram(
      "mailproxy_backend_login_duration_seconds",
      "Backend connect plus login dialogue, by backend.",
      LATENCY_BUCKETS,
    ),
  );
  readonly backendFailures = this.registry.register(
    new Counter(
      "mailproxy_backend_failures_total",
      "Backend connects or logins that failed, by backend and stage.",
    ),
  );
  readonly bytesRelayed = this.registry.register(
    new Counter(
      "mailproxy_relayed_bytes_total",
      "Bytes relayed after login, by protocol and direction (upstream = client to backend).",
    ),
  );
  readonly sessionsDone = this.registry.register(
    new Counter("mailproxy_sessions_total", "Finished sessions by protocol and how they ended."),
  );
  readonly connectionsRefused = this.registry.register(
    new Counter(
      "mailproxy_connections_refused_total",
      "Client connections refused before the greeting, by server, protocol and reason " +
        "(access, max_connections, max_connections_per_ip).",
    ),
  );
  readonly tlsHandshakes = this.registry.register(
    new Counter("mailproxy_tls_handshakes_total", "Completed client TLS handshakes, by server and protocol."),
  );
  readonly tlsHandshakeFailures = this.registry.register(
    new Counter(
      "mailproxy_tls_handshake_failures_total",
      "Client TLS handshakes that failed, by server and protocol.",
    ),
  );
  readonly configReloads = this.registry.register(
    new Counter("mailproxy_config_reloads_total", "Config reloads (SIGHUP, POST /reload), by result."),
  );
  readonly configLastReloadSuccessful = this.registry.register(
    new Gauge("mailproxy_config_last_reload_successful", "1 if the last config reload applied, else 0."),
  );
  readonly configLastReloadSuccessTime = this.registry.register(
    new Gauge(
      "mailproxy_config_last_reload_success_timestamp_seconds",
      "When the running config was loaded (start or last successful reload), since the Unix epoch.",
    ),
  );

  readonly upstreamServerUp = this.registry.register(
    new Gauge(
      "mailproxy_upstream_server_up",
      "1 if the upstream server takes logins (health checks pass and its state is not down), else 0.",
    ),
  );
  readonly upstreamServerState = this.registry.register(
    new Gauge(
      "mailproxy_upstream_server_state",
      "1 for the upstream server's current admin state (state = up, drain or down), 0 for the others.",
    ),
  );
  readonly upstreamServerSessions = this.registry.register(
    new Gauge("mailproxy_upstream_server_sessions", "Sessions relayed to the upstream server now."),
  );
  readonly upstreamRoutes = this.registry.register(
    new Counter(
      "mailproxy_upstream_route_decisions_total",
      "Logins routed through an upstream, by upstream and source (pin, sticky, hash, least_conn).",
    ),
  );
  readonly upstreamFailovers = this.registry.register(
    new Counter(
      "mailproxy_upstream_failovers_total",
      "Logins that moved on to the next server after a transport failure, by upstream and failed server.",
    ),
  );
  readonly upstreamUnavailable = this.registry.register(
    new Counter(
      "mailproxy_upstream_unavailable_total",
      "Logins no server of the upstream could take (the client got a temporary failure), by upstream.",
    ),
  );
  readonly upstreamHealthChecks = this.registry.register(
    new Counter(
      "mailproxy_upstream_health_checks_total",
      "Active health checks by upstream, server and result (ok, failed).",
    ),
  );
  readonly upstreamHealthChanges = this.registry.register(
    new Counter(
      "mailproxy_upstream_health_changes_total",
      "Upstream servers marked healthy or unhealthy, by upstream, server and new health (up, down).",
    ),
  );

  /** Fixed facts of the process, and zero series for what has not happened yet. */
  constructor(info: { version: string; runtime: string; startedAt: number } | null = null) {
    if (info) {
      this.buildInfo.set({ version: info.version, runtime: info.runtime }, 1);
      this.startTime.set({}, info.startedAt / 1000);
      this.configLastReloadSuccessTime.set({}, info.startedAt / 1000);
    }
    this.configLastReloadSuccessful.set({}, 1);
    for (const result of ["ok", "failed"]) this.configReloads.init({ result });
  }

  /** Creates the per-server series at 0 so dashboards see them before the first event. */
  initServer(server: number, protocol: string): void {
    const labels = { server: String(server), protocol };
    this.connectionsAccepted.init(labels);
    this.tlsHandshakes.init(labels);
    this.tlsHandshakeFailures.init(labels);
    if (this.connectionsActive.get(labels) === 0) this.connectionsActive.set(labels, 0);
  }
}

/**
 * The supervisor's own series about its worker copies, appended to the summed metrics: one
 * per worker, so the `worker` label is bounded by `worker_processes`.
 */
export function workerSeries(workers: { worker: number; up: boolean; restarts: number }[]): string {
  const registry = new Registry();
  const up = registry.register(
    new Gauge("mailproxy_worker_up", "1 if the worker process answered the supervisor just now, else 0."),
  );
  const restarts = registry.register(
    new Counter("mailproxy_worker_restarts_total", "Times the supervisor restarted the worker process."),
  );
  for (const w of workers) {
    up.set({ worker: String(w.worker) }, w.up ? 1 : 0);
    restarts.inc({ worker: String(w.worker) }, w.restarts);
  }
  return registry.render();
}
