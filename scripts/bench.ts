/**
 * `deno task bench`: mailproxy against nginx's mail module and a direct connection, on the
 * loopback lab (issue #8). See docs/benchmarks.md for what each figure means.
 *
 *   deno task bench [--duration 10] [--runs 3] [--only imap_login,fetch_10m_1c]
 *                   [--targets direct,nginx,mailproxy-deno] [--sessions 1000,5000] [--no-idle]
 *                   [--profile imap_login] [--generators 1] [--out DIR]
 * @module
 */

import { execFileSync } from "node:child_process";
import { parseArgs } from "node:util";
import { type CellResult, runCell } from "./bench/cell.ts";
import { type IdleResult, idleTable, runIdle } from "./bench/idle.ts";
import { type BenchLab, startAuthProcess, startBenchLab } from "./bench/lab.ts";
import { cpuCount } from "./bench/proc.ts";
import { profileTable } from "./bench/profile.ts";
import {
  cpuTable,
  floorTable,
  ratioTable,
  resumptionTable,
  type ThroughputReport,
  throughputTable,
  warnings,
} from "./bench/report.ts";
import { sleep } from "./bench/spawn.ts";
import {
  directTarget,
  floorTarget,
  mailproxyTarget,
  nginxTarget,
  type Target,
  upstreamTables,
} from "./bench/targets.ts";
import { type Workload, WORKLOADS } from "./bench/workloads.ts";

const ROOT = new URL("../", import.meta.url).pathname;

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    duration: { type: "string", default: "10" },
    warmup: { type: "string", default: "2" },
    runs: { type: "string", default: "3" },
    only: { type: "string" },
    targets: { type: "string" },
    sessions: { type: "string", default: "1000,5000" },
    "no-idle": { type: "boolean", default: false },
    "no-throughput": { type: "boolean", default: false },
    profile: { type: "string" },
    generators: { type: "string", default: "1" },
    "steal-limit": { type: "string", default: "10" },
    retries: { type: "string", default: "1" },
    out: { type: "string" },
    keep: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});

/** A target the benchmark can start, and which workloads it takes part in. */
interface TargetDef {
  name: string;
  start(lab: BenchLab): Promise<Target>;
  /** Whether the workload is run against it ("–" in the table otherwise). */
  runs(w: Workload): boolean;
  /** A fresh instance with only an IMAP server on `authUrl`, for the idle-memory test. */
  idle?(lab: BenchLab, authUrl: string): Promise<Target>;
}

const relayOnly = (w: Workload) => w.unit !== "logins/s";
const always = () => true;

const TARGETS: TargetDef[] = [
  // The login floor per runtime (issue #19): a minimal IMAP/POP3 login proxy, no logs/timers/metrics.
  ...(["deno", "bun"] as const).map((runtime): TargetDef => ({
    name: `floor-${runtime}`,
    start: (lab) => floorTarget(`floor-${runtime}`, lab, runtime),
    runs: (w) => w.name === "imap_login" || w.name === "pop3_login",
  })),
  { name: "direct", start: (lab) => Promise.resolve(directTarget(lab)), runs: always },
  {
    name: "nginx",
    start: (lab) => nginxTarget("nginx", lab),
    runs: always,
    idle: (lab, authUrl) => nginxTarget("nginx", lab, { authUrl, services: ["imap"] }),
  },
  { name: "nginx-64k", start: (lab) => nginxTarget("nginx-64k", lab, { buffers64k: true }), runs: relayOnly },
  ...(["deno", "bun"] as const).flatMap((runtime): TargetDef[] => [
    {
      name: `mailproxy-${runtime}`,
      start: (lab) => mailproxyTarget(`mailproxy-${runtime}`, lab, { runtime }),
      runs: always,
      idle: (lab, authUrl) =>
        mailproxyTarget(`mailproxy-${runtime}-idle`, lab, { runtime, authUrl, services: ["imap"] }),
    },
    {
      name: `mailproxy-${runtime}-64k`,
      start: (lab) => mailproxyTarget(`mailproxy-${runtime}-64k`, lab, { runtime, buffers64k: true }),
      runs: relayOnly,
    },
    {
      // auth_http_keepalive: the same auth service, asked over kept-alive connections
      // (nginx opens one per login); for the workloads that log in per operation.
      name: `mailproxy-${runtime}-ka`,
      start: (lab) =>
        mailproxyTarget(`mailproxy-${runtime}-ka`, lab, { runtime, extra: "auth_http_keepalive = 64" }),
      runs: (w) => w.unit !== "MB/s",
    },
    {
      // Logins routed through an [[upstream]] (Auth-Upstream from a second, identical auth
      // service) to the same backends: what routing costs per login next to the fixed target.
      name: `mailproxy-${runtime}-up`,
      start: (lab) => upstreamTarget(lab, runtime),
      runs: (w) => w.unit === "logins/s",
    },
    {
      // worker_processes = 2: how logins scale from one process to two (Deno needs --unstable-net
      // for SO_REUSEPORT).
      name: `mailproxy-${runtime}-w2`,
      start: (lab) =>
        mailproxyTarget(`mailproxy-${runtime}-w2`, lab, {
          runtime,
          workers: 2,
          runtimeFlags: runtime === "deno" ? ["--unstable-net"] : [],
        }),
      runs: (w) => w.unit === "logins/s",
    },
  ]),
];

/** mailproxy with an `[[upstream]]` per protocol and its own auth service answering Auth-Upstream. */
async function upstreamTarget(lab: BenchLab, runtime: "deno" | "bun"): Promise<Target> {
  const name = `mailproxy-${runtime}-up`;
  const auth = await startAuthProcess(
    lab.dir,
    `auth-up-${runtime}`,
    {
      imap: `127.0.0.1:${lab.dovecot.imapPort}`,
      pop3: `127.0.0.1:${lab.dovecot.pop3Port}`,
      smtp: lab.postfix ? `127.0.0.1:${lab.postfix.smtpPort}` : undefined,
    },
    undefined,
    ["--upstream"],
  );
  try {
    const target = await mailproxyTarget(name, lab, {
      runtime,
      authUrl: auth.url,
      tables: upstreamTables(lab),
    });
    return {
      ...target,
      stop: async () => {
        await target.stop();
        await auth.stop();
      },
    };
  } catch (err) {
    await auth.stop();
    throw err;
  }
}

if (flags.help) {
  console.log(`deno task bench [flags]
  --duration S      measured window per cell (default 10)
  --warmup S        warm-up before each window (default 2)
  --runs N          repetitions; medians are reported (default 3)
  --only LIST       workloads: ${WORKLOADS.map((w) => w.name).join(",")}
  --targets LIST    targets: ${TARGETS.map((t) => t.name).join(",")}
  --sessions LIST   idle-session counts for the memory test (default 1000,5000)
  --no-idle         skip the memory test
  --no-throughput   skip the throughput workloads (memory test and/or profile only)
  --profile LIST    also run these workloads (e.g. imap_login) against a fresh mailproxy on Deno
                    with --cpu-prof and summarize the top self-time functions
  --generators N    load generator processes per cell (default 1)
  --steal-limit P   repeat a cell once when host steal exceeds P % (default 10)
  --out DIR         where report.md, results.json and the profile go (default /tmp/mailproxy-bench-DATE)
  --keep            keep the lab directory`);
  Deno.exit(0);
}

const durationS = Number(flags.duration);
const warmupS = Number(flags.warmup);
const runs = Number(flags.runs);
const stealLimit = Number(flags["steal-limit"]) / 100;
const retries = Number(flags.retries);
const generators = Number(flags.generators);
const list = (text: string | undefined) => text?.split(",").map((s) => s.trim()).filter(Boolean);
const workloads = flags["no-throughput"]
  ? []
  : WORKLOADS.filter((w) => !flags.only || list(flags.only)!.includes(w.name));
const targetDefs = TARGETS.filter((t) => !flags.targets || list(flags.targets)!.includes(t.name));
for (const name of [...(list(flags.only) ?? []), ...(list(flags.targets) ?? [])]) {
  if (!WORKLOADS.some((w) => w.name === name) && !TARGETS.some((t) => t.name === name)) {
    console.error(`bench: unknown workload or target "${name}" (see --help)`);
    Deno.exit(2);
  }
}
const sessionCounts = list(flags.sessions)!.map(Number);
const stamp = new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
const outDir = flags.out ?? `/tmp/mailproxy-bench-${stamp}`;

const log = (line: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

execFileSync("bash", [`${ROOT}scripts/install_lab.sh`], { stdio: "inherit" });
await Deno.mkdir(outDir, { recursive: true });
const labDir = await Deno.makeTempDir({ prefix: "mailproxy-bench-" });
await Deno.chmod(labDir, 0o755);

const cleanups: (() => Promise<void>)[] = [];
async function cleanup(): Promise<void> {
  for (const fn of cleanups.splice(0).reverse()) await fn().catch((err) => log(`cleanup: ${err}`));
  if (!flags.keep) await Deno.remove(labDir, { recursive: true }).catch(() => {});
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => {
    log(`${signal}: stopping the lab`);
    cleanup().finally(() => Deno.exit(130));
  });
}

const report: ThroughputReport = {
  workloads,
  targets: targetDefs.map((t) => t.name),
  cells: [],
  na: [],
  stealLimit,
  cores: cpuCount(),
};
let idle: { results: IdleResult[]; na: { target: string; reason: string }[] } = { results: [], na: [] };
let profileText = "";

/** Runs one cell, once more when the host stole too much CPU, keeping the calmer attempt. */
async function measure(lab: BenchLab, target: Target, w: Workload, run: number): Promise<CellResult> {
  let best: CellResult | undefined;
  for (let attempt = 1; attempt <= 1 + retries; attempt++) {
    const result = await runCell(lab, target, w, { durationS, warmupS, generators, run });
    result.attempts = attempt;
    if (!best || result.steal < best.steal) best = { ...result, attempts: attempt };
    if (result.steal <= stealLimit) break;
    log(`  steal ${(result.steal * 100).toFixed(0)} % > limit: repeating`);
  }
  return best!;
}

try {
  const lab = await startBenchLab(labDir, log);
  cleanups.push(() => lab.stop());
  const targets: Target[] = [];
  for (const def of targetDefs) {
    log(`starting ${def.name}`);
    const target = await def.start(lab);
    cleanups.push(() => target.stop());
    targets.push(target);
  }
  // n/a cells are known up front: a service a target lacks.
  for (const w of workloads) {
    for (const [i, t] of targets.entries()) {
      if (!targetDefs[i].runs(w)) continue;
      const reason = t.missing[w.service];
      if (t.ports[w.service] === undefined) {
        report.na.push({ workload: w.name, target: t.name, reason: reason ?? "not served" });
      }
    }
  }

  for (let run = 1; run <= runs; run++) {
    for (const w of workloads) {
      // Round-robin over targets, rotated per run so no target always follows the same one.
      const order = targets.map((_, i) => targets[(i + run - 1) % targets.length]);
      for (const target of order) {
        const def = targetDefs[targets.indexOf(target)];
        if (!def.runs(w) || target.ports[w.service] === undefined) continue;
        const result = await measure(lab, target, w, run).catch((err): CellResult | undefined => {
          log(`  ${w.name} / ${target.name} failed: ${err instanceof Error ? err.message : err}`);
          return undefined;
        });
        if (!result) continue;
        report.cells.push(result);
        log(
          `run ${run} ${w.name} ${target.name}: ${result.value.toFixed(1)} ${w.unit}` +
            ` (steal ${(result.steal * 100).toFixed(0)} %, errors ${result.errors}` +
            `${result.firstError ? `: ${result.firstError}` : ""})`,
        );
        // Let TIME_WAIT and Dovecot's process pool settle between cells.
        await sleep(500);
      }
    }
  }
  // Stopping is idempotent: the cleanup list may stop them again.
  for (const t of targets) await t.stop();

  if (!flags["no-idle"]) {
    const factories = targetDefs.filter((d) => d.idle).map((d) => ({
      name: d.name,
      start: (authUrl: string) => d.idle!(lab, authUrl),
    }));
    idle = await runIdle(lab, factories, sessionCounts, log);
  }

  for (const name of list(flags.profile) ?? []) {
    const w = WORKLOADS.find((x) => x.name === name);
    if (!w) throw new Error(`--profile: unknown workload ${name}`);
    log(`profiling mailproxy on Deno under ${name}`);
    const profDir = `${outDir}/cpuprofile-${name}`;
    const target = await mailproxyTarget(`mailproxy-deno-prof-${name}`, lab, {
      runtime: "deno",
      services: [w.service],
      runtimeFlags: ["--cpu-prof", `--cpu-prof-dir=${profDir}`],
      // As the -ka targets: what is left of mailproxy's own cost once the auth connection is kept.
      extra: w.unit === "MB/s" ? undefined : "auth_http_keepalive = 64",
    });
    let header = "";
    try {
      const r = await runCell(lab, target, w, { durationS, warmupS, generators, run: 0 });
      header = `### ${name} through mailproxy on Deno with --cpu-prof${
        w.unit === "MB/s" ? "" : " and auth_http_keepalive"
      }: ${r.value.toFixed(0)} ${w.unit}\n\n`;
    } finally {
      await target.stop();
    }
    for (const entry of Deno.readDirSync(profDir)) {
      if (entry.name.endsWith(".cpuprofile")) {
        profileText += header + profileTable(`${profDir}/${entry.name}`) + "\n\n";
      }
    }
  }
} finally {
  await cleanup();
}

const steals = report.cells.map((c) => c.steal);
const text = [
  `# mailproxy benchmark ${new Date().toISOString()}`,
  "",
  `${report.cores} CPUs, ${runs} run(s) × ${durationS} s per cell (warm-up ${warmupS} s), ` +
  `medians; host steal per cell ${
    steals.length
      ? `${(Math.min(...steals) * 100).toFixed(0)}–${(Math.max(...steals) * 100).toFixed(0)} %`
      : "–"
  }.`,
  "",
  "## Throughput",
  "",
  throughputTable(report),
  "",
  "## Ratios",
  "",
  ratioTable(report),
  "",
  ...(floorTable(report)
    ? [
      "## CPU per login against nginx and the runtime floor (proxy process tree)",
      "",
      floorTable(report),
      "",
    ]
    : []),
  "## CPU cost (CPU seconds per 1 000 operations, or per GB relayed)",
  "",
  cpuTable(report),
  "",
  ...(resumptionTable(report)
    ? [
      "## TLS session resumption (IMAPS, Python/OpenSSL client; CPU: the proxy's, Dovecot's for direct)",
      "",
      resumptionTable(report),
      "",
    ]
    : []),
  "## Warnings",
  "",
  ...(warnings(report).map((w) => `- ${w}`).join("\n") || "none").split("\n"),
  "",
  ...(flags["no-idle"]
    ? []
    : ["## Idle authenticated IMAP sessions (VmRSS)", "", idleTable(idle.results, idle.na), ""]),
  ...(profileText ? ["## CPU profile", "", profileText] : []),
].join("\n");
console.log(text);
await Deno.writeTextFile(`${outDir}/report.md`, text);
await Deno.writeTextFile(
  `${outDir}/results.json`,
  JSON.stringify({ flags, cells: report.cells, na: report.na, idle }, null, 2),
);
log(`report: ${outDir}/report.md`);
// Child stdout readers and signal listeners would keep the process alive.
Deno.exit(0);
