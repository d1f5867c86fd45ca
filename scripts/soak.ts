/**
 * Soak test: mixed IMAP, POP3 and SMTP load through one mailproxy process (logins,
 * relayed commands and messages, failed logins, garbage, abrupt disconnects) for a
 * set time, sampling the proxy's RSS (/proc/<pid>/status VmRSS) and open file
 * descriptors (/proc/<pid>/fd) every second, then idling to check both return to
 * their baseline. Loopback only; bounded concurrency; stops by itself.
 *
 *   deno task soak                                   # 10 minutes on Deno
 *   deno task soak --duration 20 --runtime bun       # seconds; deno | bun
 *   deno task soak --workers 40 --json soak.json     # concurrency; figures as JSON
 *
 * Backends are loopback fakes (tests/helpers/robustness.ts) so the figures are the
 * proxy's alone; logins go through the lab's auth_http service.
 * @module
 */

import { parseArgs } from "node:util";
import { writeFileSync } from "node:fs";
import { startAuthService } from "../tests/lab/auth_service.ts";
import { freePort } from "../tests/lab/ports.ts";
import { LineClient } from "../tests/helpers/line_client.ts";
import { startProxy } from "../tests/helpers/proxy_process.ts";
import {
  fdCount,
  rssKiB,
  sleep,
  startFakeImapBackend,
  startFakeLineBackend,
} from "../tests/helpers/robustness.ts";
import type { Runtime } from "../tests/helpers/runtimes.ts";

/** Options of {@link runSoak}. */
export interface SoakOptions {
  runtime: Runtime;
  /** Seconds of load. */
  durationS: number;
  /** Concurrent client loops. */
  workers: number;
  /** Seconds of idling after the load, while the figures must settle. */
  settleS?: number;
  /** Called with each sample line as it is taken. */
  onSample?: (s: SoakSample) => void;
}

/** One sample of the proxy process. */
export interface SoakSample {
  t: number;
  phase: "baseline" | "load" | "settle";
  rssMiB: number;
  fds: number;
  sessions: number;
}

/** What a soak run measured. */
export interface SoakReport {
  runtime: Runtime;
  durationS: number;
  workers: number;
  sessions: number;
  byScenario: Record<string, number>;
  failures: string[];
  samples: SoakSample[];
  baseline: { rssMiB: number; fds: number };
  peak: { rssMiB: number; fds: number };
  /** RSS at the end of the first quarter of the load, and at its end (growth under steady load). */
  loadRss: { early: number; late: number };
  after: { rssMiB: number; fds: number };
}

type Scenario = (ports: Ports) => Promise<void>;
interface Ports {
  imap: number;
  pop3: number;
  smtp: number;
}

async function expectLine(c: LineClient, prefix: string, what: string): Promise<string> {
  const text = await c.readUntilLine(prefix, 15_000);
  if (!text.split("\r\n").some((l) => l.startsWith(prefix))) {
    throw new Error(`${what}: wanted "${prefix}", got ${JSON.stringify(text.slice(0, 120))}`);
  }
  return text;
}

async function withClient(port: number, fn: (c: LineClient) => Promise<void>): Promise<void> {
  const c = await LineClient.open(port);
  try {
    await fn(c);
  } finally {
    c.close();
  }
}

const SCENARIOS: Record<string, Scenario> = {
  "imap login+fetch": ({ imap }) =>
    withClient(imap, async (c) => {
      await expectLine(c, "* OK", "imap greeting");
      c.send("a1 LOGIN alice alicepass\r\n");
      await expectLine(c, "a1 OK", "imap login");
      c.send("a2 FETCH 65536\r\n");
      await expectLine(c, "a2 OK", "imap fetch");
      c.send("a3 LOGOUT\r\n");
      await expectLine(c, "a3 OK", "imap logout");
    }),
  "imap cut mid-fetch": ({ imap }) =>
    withClient(imap, async (c) => {
      await expectLine(c, "* OK", "imap greeting");
      c.send("a1 LOGIN alice alicepass\r\na2 FETCH 4000000\r\n");
      await expectLine(c, "a1 OK", "imap login");
      // Abrupt disconnect while the backend is still streaming.
    }),
  "imap wrong password": ({ imap }) =>
    withClient(imap, async (c) => {
      await expectLine(c, "* OK", "imap greeting");
      c.send("a1 LOGIN alice wrong\r\n");
      await expectLine(c, "a1 NO", "imap failed login");
    }),
  "imap garbage": ({ imap }) =>
    withClient(imap, async (c) => {
      await expectLine(c, "* OK", "imap greeting");
      c.send("\0\xff garbage\r\na1 LOGIN {99999999999999999999}\r\n");
      await expectLine(c, "a1 BAD", "imap garbage");
    }),
  "pop3 login+retr": ({ pop3 }) =>
    withClient(pop3, async (c) => {
      await expectLine(c, "+OK", "pop3 greeting");
      c.send("USER alice\r\n");
      await expectLine(c, "+OK", "pop3 user");
      c.send("PASS alicepass\r\n");
      await expectLine(c, "+OK", "pop3 pass");
      c.send("RETR 1\r\n");
      await expectLine(c, ".", "pop3 retr");
      c.send("QUIT\r\n");
      await expectLine(c, "+OK", "pop3 quit");
    }),
  "pop3 cut after greeting": ({ pop3 }) =>
    withClient(pop3, async (c) => {
      await expectLine(c, "+OK", "pop3 greeting");
      c.send("USER ali");
    }),
  "smtp auth+message": ({ smtp }) =>
    withClient(smtp, async (c) => {
      await expectLine(c, "220", "smtp greeting");
      c.send("EHLO soak.example\r\n");
      await expectLine(c, "250 ", "smtp ehlo");
      c.send(`AUTH PLAIN ${btoa("\0alice\0alicepass")}\r\n`);
      await expectLine(c, "235", "smtp auth");
      c.send("MAIL FROM:<alice@example.com>\r\n");
      await expectLine(c, "250", "smtp mail");
      c.send("RCPT TO:<bob@example.com>\r\n");
      await expectLine(c, "250", "smtp rcpt");
      c.send("DATA\r\n");
      await expectLine(c, "354", "smtp data");
      c.send(`Subject: soak\r\n\r\n${"line of text\r\n".repeat(300)}.\r\n`);
      await expectLine(c, "250", "smtp end of data");
      c.send("QUIT\r\n");
      await expectLine(c, "221", "smtp quit");
    }),
  "smtp unauthenticated relay": ({ smtp }) =>
    withClient(smtp, async (c) => {
      await expectLine(c, "220", "smtp greeting");
      c.send("HELO soak.example\r\n");
      await expectLine(c, "250", "smtp helo");
      c.send("MAIL FROM:<x@example.com>\r\n");
      await expectLine(c, "250", "smtp mail");
      c.send("RCPT TO:<bob@example.com>\r\n");
      await expectLine(c, "250", "smtp rcpt (none)");
    }),
};

/** Runs one soak and returns the figures. */
export async function runSoak(opts: SoakOptions): Promise<SoakReport> {
  const settleS = opts.settleS ?? 10;
  const imapBackend = await startFakeImapBackend("normal");
  const pop3Backend = await startFakeLineBackend("pop3");
  const smtpBackend = await startFakeLineBackend("smtp");
  const auth = await startAuthService({
    backends: {
      imap: { host: "127.0.0.1", port: imapBackend.port },
      pop3: { host: "127.0.0.1", port: pop3Backend.port },
      smtp: { host: "127.0.0.1", port: smtpBackend.port },
    },
    record: false,
  });
  const ports: Ports = { imap: await freePort(), pop3: await freePort(), smtp: await freePort() };
  const proxy = await startProxy(
    opts.runtime,
    `
auth_http = "${auth.url}"
timeout = "20s"

[log]
level = "warning"

[[server]]
listen = "127.0.0.1:${ports.imap}"
protocol = "imap"

[[server]]
listen = "127.0.0.1:${ports.pop3}"
protocol = "pop3"

[[server]]
listen = "127.0.0.1:${ports.smtp}"
protocol = "smtp"
smtp_auth = ["plain", "login", "none"]
`,
    [ports.imap, ports.pop3, ports.smtp],
  );
  const samples: SoakSample[] = [];
  const byScenario: Record<string, number> = {};
  const failures: string[] = [];
  let sessions = 0;
  const started = Date.now();
  const sample = (phase: SoakSample["phase"]) => {
    const s: SoakSample = {
      t: Math.round((Date.now() - started) / 100) / 10,
      phase,
      rssMiB: Math.round(rssKiB(proxy.pid) / 102.4) / 10,
      fds: fdCount(proxy.pid),
      sessions,
    };
    samples.push(s);
    opts.onSample?.(s);
    return s;
  };
  try {
    // Warm-up: one session of each kind, so the baseline includes loaded code paths.
    for (const scenario of Object.values(SCENARIOS)) await scenario(ports).catch(() => {});
    await sleep(1500);
    const base = sample("baseline");

    const names = Object.keys(SCENARIOS);
    const until = Date.now() + opts.durationS * 1000;
    let phase: SoakSample["phase"] = "load";
    const sampler = setInterval(() => sample(phase), 1000);
    const worker = async (w: number) => {
      let i = w;
      while (Date.now() < until) {
        const name = names[i++ % names.length];
        try {
          await SCENARIOS[name](ports);
          byScenario[name] = (byScenario[name] ?? 0) + 1;
        } catch (err) {
          failures.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
        }
        sessions++;
      }
    };
    await Promise.all(Array.from({ length: opts.workers }, (_, w) => worker(w)));
    phase = "settle";
    await sleep(settleS * 1000);
    clearInterval(sampler);
    const after = sample("settle");

    const load = samples.filter((s) => s.phase === "load");
    const quarter = load[Math.max(0, Math.floor(load.length / 4) - 1)] ?? base;
    return {
      runtime: opts.runtime,
      durationS: opts.durationS,
      workers: opts.workers,
      sessions,
      byScenario,
      failures,
      samples,
      baseline: { rssMiB: base.rssMiB, fds: base.fds },
      peak: {
        rssMiB: Math.max(...samples.map((s) => s.rssMiB)),
        fds: Math.max(...samples.map((s) => s.fds)),
      },
      loadRss: { early: quarter.rssMiB, late: load.at(-1)?.rssMiB ?? base.rssMiB },
      after: { rssMiB: after.rssMiB, fds: after.fds },
    };
  } finally {
    await proxy.stop();
    await auth.stop();
    await Promise.all([imapBackend.stop(), pop3Backend.stop(), smtpBackend.stop()]);
  }
}

/** The report as text: summary and the sample table. */
export function formatReport(r: SoakReport): string {
  const lines = [
    `soak on ${r.runtime}: ${r.durationS}s, ${r.workers} workers, ${r.sessions} sessions, ${r.failures.length} failures`,
    `  by scenario: ${Object.entries(r.byScenario).map(([k, v]) => `${k} ${v}`).join(", ")}`,
    `  RSS MiB: baseline ${r.baseline.rssMiB}, under load ${r.loadRss.early} -> ${r.loadRss.late}, ` +
    `peak ${r.peak.rssMiB}, after ${r.after.rssMiB}`,
    `  fds: baseline ${r.baseline.fds}, peak ${r.peak.fds}, after ${r.after.fds}`,
  ];
  for (const f of r.failures.slice(0, 10)) lines.push(`  failure: ${f}`);
  return lines.join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      duration: { type: "string", default: "600" },
      runtime: { type: "string", default: "deno" },
      workers: { type: "string", default: "30" },
      settle: { type: "string", default: "15" },
      json: { type: "string" },
    },
  });
  const runtime = values.runtime === "bun" ? "bun" : "deno";
  console.log("    t  phase     RSS MiB   fds  sessions");
  const report = await runSoak({
    runtime,
    durationS: Number(values.duration),
    workers: Number(values.workers),
    settleS: Number(values.settle),
    onSample: (s) =>
      console.log(
        `${s.t.toFixed(0).padStart(5)}  ${s.phase.padEnd(8)} ${s.rssMiB.toFixed(1).padStart(8)} ${
          String(s.fds).padStart(5)
        } ${String(s.sessions).padStart(9)}`,
      ),
  });
  console.log(formatReport(report));
  if (values.json) writeFileSync(values.json, JSON.stringify(report, null, 2));
}
