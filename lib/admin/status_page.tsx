/** @jsxImportSource hono/jsx */
/**
 * The status page (`GET /`): server-rendered HTML, no JavaScript, refreshing itself
 * with a meta refresh. Client-supplied text (user names) is escaped by hono/jsx.
 * The pragma above makes Bun (and `bun build --compile`) use hono/jsx without a
 * tsconfig; Deno reads the same from deno.json.
 * @module
 */

import type { FC } from "hono/jsx";
import type { StatusModel } from "./status_model.ts";
import { BarChart } from "./chart.tsx";

/** Seconds between automatic reloads of the page. */
export const REFRESH_SECONDS = 5;
/** Sessions listed on the page; the rest are counted (the API lists all). */
const MAX_ROWS = 200;

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#1d2125;background:#fafbfc}
h1{font-size:1.4rem;margin:0 0 .2rem}h2{font-size:1.05rem;margin:1.6rem 0 .4rem}
table{border-collapse:collapse;background:#fff;min-width:40%}
th,td{border:1px solid #d7dce1;padding:.25rem .6rem;text-align:left;white-space:nowrap}
th{background:#eef1f4}td.n{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:#68717a}.bad{color:#b3261e;font-weight:600}.ok{color:#1b7f3b}.warn{color:#9a6700;font-weight:600}
.charts{display:flex;flex-wrap:wrap;gap:1.5rem}figure.chart{margin:0}figure.chart svg{background:#fff;border:1px solid #d7dce1}
`;

function duration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${s}s` : `${s}s`;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

const Listeners: FC<{ model: StatusModel }> = ({ model }) => (
  <table id="listeners">
    <thead>
      <tr>
        <th>server</th>
        <th>protocol</th>
        <th>listen</th>
        <th>address</th>
        <th>sessions</th>
      </tr>
    </thead>
    <tbody>
      {model.listeners.map((l) => (
        <tr>
          <td>#{l.server + 1}</td>
          <td>{l.protocol}</td>
          <td>{l.listen}</td>
          <td>{l.address ?? ""}</td>
          <td class="n">{l.sessions}</td>
        </tr>
      ))}
    </tbody>
  </table>
);

const Sessions: FC<{ model: StatusModel }> = ({ model }) => {
  if (model.sessions.length === 0) return <p class="muted">No active sessions.</p>;
  const rows = model.sessions.slice(0, MAX_ROWS);
  return (
    <>
      <table id="sessions">
        <thead>
          <tr>
            <th>id</th>
            <th>protocol</th>
            <th>user</th>
            <th>client</th>
            <th>backend</th>
            <th>state</th>
            <th>age</th>
            <th>to backend</th>
            <th>to client</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((s) => (
            <tr data-session={s.id}>
              <td>
                <code>{s.id}</code>
              </td>
              <td>{s.protocol}</td>
              <td>{s.user ?? <span class="muted">–</span>}</td>
              <td>{s.client}</td>
              <td>{s.backend ?? <span class="muted">–</span>}</td>
              <td>{s.state}</td>
              <td class="n">{duration(s.duration_seconds)}</td>
              <td class="n">{bytes(s.bytes.upstream)}</td>
              <td class="n">{bytes(s.bytes.downstream)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {model.sessions.length > rows.length && (
        <p class="muted">
          {model.sessions.length - rows.length} more; GET /sessions lists all.
        </p>
      )}
    </>
  );
};

const Logins: FC<{ model: StatusModel }> = ({ model }) => (
  <table id="logins">
    <thead>
      <tr>
        <th>result</th>
        <th>last 1 min</th>
        <th>last 5 min</th>
        <th>last 15 min</th>
        <th>since start</th>
      </tr>
    </thead>
    <tbody>
      {(["ok", "failed", "error"] as const).map((r) => {
        const v = model.logins[r];
        return (
          <tr>
            <td class={r === "ok" ? "ok" : v.m5 > 0 ? "bad" : ""}>{r}</td>
            <td class="n">{v.m1}</td>
            <td class="n">{v.m5}</td>
            <td class="n">{v.m15}</td>
            <td class="n">{v.total}</td>
          </tr>
        );
      })}
    </tbody>
  </table>
);

const Auth: FC<{ model: StatusModel }> = ({ model }) =>
  model.auth.length === 0 ? <p class="muted">No auth requests yet.</p> : (
    <table id="auth">
      <thead>
        <tr>
          <th>provider</th>
          <th>requests</th>
          <th>avg latency</th>
          <th>errors</th>
        </tr>
      </thead>
      <tbody>
        {model.auth.map((a) => (
          <tr>
            <td>{a.provider}</td>
            <td class="n">{a.requests}</td>
            <td class="n">{a.avg_ms} ms</td>
            <td class={a.errors > 0 ? "n bad" : "n"}>{a.errors}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );

const Backends: FC<{ model: StatusModel }> = ({ model }) =>
  model.backends.length === 0 ? <p class="muted">No backend contacted yet.</p> : (
    <table id="backends">
      <thead>
        <tr>
          <th>backend</th>
          <th>logins</th>
          <th>avg connect</th>
          <th>avg connect + login</th>
          <th>connect failures</th>
          <th>login failures</th>
        </tr>
      </thead>
      <tbody>
        {model.backends.map((b) => (
          <tr>
            <td>{b.backend}</td>
            <td class="n">{b.logins}</td>
            <td class="n">{b.connect_avg_ms === null ? "–" : `${b.connect_avg_ms} ms`}</td>
            <td class="n">{b.login_avg_ms === null ? "–" : `${b.login_avg_ms} ms`}</td>
            <td class={b.connect_failures > 0 ? "n bad" : "n"}>{b.connect_failures}</td>
            <td class={b.login_failures > 0 ? "n bad" : "n"}>{b.login_failures}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );

const Upstreams: FC<{ model: StatusModel }> = ({ model }) => (
  <table id="upstreams">
    <thead>
      <tr>
        <th>upstream</th>
        <th>server</th>
        <th>state</th>
        <th>health</th>
        <th>weight</th>
        <th>sessions</th>
        <th>users</th>
      </tr>
    </thead>
    <tbody>
      {model.upstreams.flatMap((u) =>
        u.servers.map((s) => (
          <tr>
            <td>
              {u.name} <span class="muted">({u.protocol}, hash {u.hash})</span>
            </td>
            <td>{s.address}{s.backup ? <span class="muted">backup</span> : ""}</td>
            <td class={s.state === "up" ? "ok" : s.state === "drain" ? "warn" : "bad"}>{s.state}</td>
            <td class={s.healthy ? "ok" : "bad"}>{s.healthy ? "healthy" : "unhealthy"}</td>
            <td class="n">{s.weight}</td>
            <td class="n">{s.sessions}</td>
            <td class="n">{s.users}</td>
          </tr>
        ))
      )}
    </tbody>
  </table>
);

const Workers: FC<{ model: StatusModel }> = ({ model }) => (
  <table id="workers">
    <thead>
      <tr>
        <th>worker</th>
        <th>pid</th>
        <th>state</th>
        <th>sessions</th>
        <th>up for</th>
        <th>restarts</th>
      </tr>
    </thead>
    <tbody>
      {model.workers.map((w) => (
        <tr>
          <td class="n">{w.worker}</td>
          <td class="n">{w.pid ?? "–"}</td>
          <td class={w.up ? "ok" : "bad"}>{w.up ? "up" : "down"}</td>
          <td class="n">{w.sessions ?? "–"}</td>
          <td class="n">{w.uptime_seconds === null ? "–" : duration(w.uptime_seconds)}</td>
          <td class={w.restarts > 0 ? "n bad" : "n"}>{w.restarts}</td>
        </tr>
      ))}
    </tbody>
  </table>
);

/** The whole page. */
export const StatusPage: FC<{ model: StatusModel }> = ({ model }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta http-equiv="refresh" content={String(REFRESH_SECONDS)} />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>mailproxy status</title>
      <style>{STYLE}</style>
    </head>
    <body>
      <h1>mailproxy {model.version}</h1>
      <p class="muted">
        {model.runtime} · up {duration(model.uptime_seconds)} · {model.sessions.length} active session
        {model.sessions.length === 1 ? "" : "s"}
        {model.config_file ? ` · config ${model.config_file}` : ""} · refreshes every {REFRESH_SECONDS}s
      </p>
      {model.last_reload && (
        <div id="last-reload" class={model.last_reload.ok ? "muted" : "bad"}>
          Last reload {model.last_reload.at}: {model.last_reload.ok ? "applied" : "refused"}
          {model.last_reload.errors.length > 0 && (
            <ul>
              {model.last_reload.errors.map((e, i) => <li key={i}>{e}</li>)}
            </ul>
          )}
        </div>
      )}
      {model.workers.length > 1 && (
        <>
          <h2>Worker processes</h2>
          <Workers model={model} />
        </>
      )}
      <h2>Last hour</h2>
      <div class="charts">
        <BarChart id="chart-logins" label="Logins per minute" values={model.history.logins} unit="logins" />
        <BarChart
          id="chart-sessions"
          label="Sessions (most open per minute)"
          values={model.history.sessions}
          unit="sessions"
        />
      </div>
      <h2>Listeners</h2>
      <Listeners model={model} />
      <h2>Sessions</h2>
      <Sessions model={model} />
      <h2>Logins</h2>
      <Logins model={model} />
      <h2>Auth</h2>
      <Auth model={model} />
      {model.upstreams.length > 0 && (
        <>
          <h2>Upstreams</h2>
          <Upstreams model={model} />
        </>
      )}
      <h2>Backends</h2>
      <Backends model={model} />
      <p class="muted">
        JSON: <a href="/status">/status</a> · <a href="/sessions">/sessions</a> ·{" "}
        <a href="/metrics">/metrics</a> · <a href="/upstreams">/upstreams</a> ·{" "}
        <a href="/openapi.json">/openapi.json</a>
      </p>
    </body>
  </html>
);

/** The page as an HTML document. */
export function renderStatusPage(model: StatusModel): string {
  return "<!DOCTYPE html>" + String(<StatusPage model={model} />);
}
