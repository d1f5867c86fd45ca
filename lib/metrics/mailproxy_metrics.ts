/**
 * The metrics mailproxy exports. Names follow Prometheus conventions: `_total`
 * for counters, base units (seconds, bytes).
 * @module
 */

import { Counter, Gauge, Histogram, Registry } from "./registry.ts";

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** All series of one mailproxy process. */
export class MailproxyMetrics {
  readonly registry = new Registry();
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
      "Login attempts by protocol, auth method and result (ok, failed, error).",
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
}
