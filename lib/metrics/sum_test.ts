import assert from "node:assert/strict";
import { MailproxyMetrics, WORKER_MERGE_RULES, workerSeries } from "./mailproxy_metrics.ts";
import { sumMetricTexts } from "./sum.ts";

Deno.test("sum: counters and gauges add up per label set, histograms bucket by bucket", () => {
  const a = new MailproxyMetrics({ version: "1.0", runtime: "deno 2", startedAt: 1_000_000 });
  const b = new MailproxyMetrics({ version: "1.0", runtime: "deno 2", startedAt: 2_000_000 });
  for (const m of [a, b]) m.initServer(0, "imap");
  a.connectionsAccepted.inc({ server: "0", protocol: "imap" }, 7);
  b.connectionsAccepted.inc({ server: "0", protocol: "imap" }, 13);
  a.connectionsActive.add({ server: "0", protocol: "imap" }, 3);
  b.connectionsActive.add({ server: "0", protocol: "imap" }, 4);
  a.logins.inc({ protocol: "imap", method: "plain", result: "ok" }, 2);
  b.logins.inc({ protocol: "imap", method: "login", result: "failed" });
  a.authDuration.observe({ provider: "http" }, 0.003);
  b.authDuration.observe({ provider: "http" }, 0.02);
  b.authDuration.observe({ provider: "http" }, 3);
  b.configLastReloadSuccessful.set({}, 0);

  const text = sumMetricTexts([a.registry.render(), b.registry.render()], WORKER_MERGE_RULES);
  const line = (series: string) => {
    const found = text.split("\n").filter((l) => l.startsWith(`${series} `));
    assert.equal(found.length, 1, `${series} appears once in:\n${text}`);
    return Number(found[0].slice(series.length + 1));
  };
  assert.equal(line('mailproxy_connections_accepted_total{protocol="imap",server="0"}'), 20);
  assert.equal(line('mailproxy_connections_active{protocol="imap",server="0"}'), 7);
  assert.equal(line('mailproxy_logins_total{method="plain",protocol="imap",result="ok"}'), 2);
  assert.equal(line('mailproxy_logins_total{method="login",protocol="imap",result="failed"}'), 1);
  assert.equal(line('mailproxy_auth_request_duration_seconds_bucket{provider="http",le="0.005"}'), 1);
  assert.equal(line('mailproxy_auth_request_duration_seconds_bucket{provider="http",le="0.025"}'), 2);
  assert.equal(line('mailproxy_auth_request_duration_seconds_bucket{provider="http",le="+Inf"}'), 3);
  assert.equal(line('mailproxy_auth_request_duration_seconds_count{provider="http"}'), 3);
  assert.ok(Math.abs(line('mailproxy_auth_request_duration_seconds_sum{provider="http"}') - 3.023) < 1e-9);
  // Not amounts: build info stays 1, the earliest start, 0 if any process refused a reload.
  assert.equal(line('mailproxy_build_info{runtime="deno 2",version="1.0"}'), 1);
  assert.equal(line("process_start_time_seconds"), 1000);
  assert.equal(line("mailproxy_config_last_reload_successful"), 0);
  // Each family once, with its HELP and TYPE, in the original order.
  assert.equal(text.match(/^# TYPE mailproxy_connections_accepted_total counter$/gm)?.length, 1);
  assert.equal(text.match(/^# HELP mailproxy_auth_request_duration_seconds /gm)?.length, 1);
  const types = [...text.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]);
  const original = [...a.registry.render().matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]);
  assert.deepEqual(types, original);
});

Deno.test("sum: one text comes back unchanged", () => {
  const m = new MailproxyMetrics({ version: "1.0", runtime: "bun 1", startedAt: 5000 });
  m.initServer(0, "pop3");
  m.authDuration.observe({ provider: "static" }, 0.05);
  const text = m.registry.render();
  assert.equal(sumMetricTexts([text], WORKER_MERGE_RULES), text);
});

Deno.test("sum: series only some texts have, odd label values, and garbage lines", () => {
  const a = [
    "# HELP x_total Things.",
    "# TYPE x_total counter",
    'x_total{path="a}b",q="say \\"hi\\", {ok}"} 2',
    "x_total 1 1700000000000",
  ].join("\n");
  const b = [
    "# TYPE x_total counter",
    'x_total{path="a}b",q="say \\"hi\\", {ok}"} 3',
    'x_total{path="c"} 5',
    "x_total{broken 4",
    "x_total notanumber",
    "x_total 1 2 3",
    "{} 7",
    "# random comment",
    "",
    "y_gauge +Inf",
  ].join("\n");
  assert.equal(
    sumMetricTexts([a, b, "\u0000garbage\n<html>"]),
    [
      "# HELP x_total Things.",
      "# TYPE x_total counter",
      'x_total{path="a}b",q="say \\"hi\\", {ok}"} 5',
      "x_total 1",
      'x_total{path="c"} 5',
      "y_gauge +Inf",
      "",
    ].join("\n"),
  );
  assert.equal(sumMetricTexts([]), "");
});

Deno.test("sum: the supervisor's worker series", () => {
  const text = workerSeries([{ worker: 0, up: true, restarts: 0 }, { worker: 1, up: false, restarts: 2 }]);
  assert.match(text, /^mailproxy_worker_up\{worker="0"\} 1$/m);
  assert.match(text, /^mailproxy_worker_up\{worker="1"\} 0$/m);
  assert.match(text, /^mailproxy_worker_restarts_total\{worker="1"\} 2$/m);
  assert.match(text, /^# TYPE mailproxy_worker_restarts_total counter$/m);
});
