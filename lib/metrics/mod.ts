/**
 * A small Prometheus registry and mailproxy's series (counters, gauges, histograms,
 * login-rate windows).
 * @module
 */
export { MailproxyMetrics, WORKER_MERGE_RULES, workerSeries } from "./mailproxy_metrics.ts";
export type { LoginResult } from "./mailproxy_metrics.ts";
export { sumMetricTexts } from "./sum.ts";
