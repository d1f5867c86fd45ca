/**
 * One measurement: a workload against a target for a fixed window. Starts the generator
 * process(es), lets them warm up, then samples CPU time of every process group and the host's
 * steal at the start and end of the window.
 * @module
 */

import { BENCH_USERS, type BenchLab } from "./lab.ts";
import type { GeneratorResult } from "./loadgen.ts";
import { cpuSample, cpuShares, treeCpuSeconds } from "./proc.ts";
import { LineReader, sendLine, sleep, type Spawned, spawnProcess } from "./spawn.ts";
import type { Target } from "./targets.ts";
import type { Workload } from "./workloads.ts";

const LOADGEN = new URL("./loadgen.ts", import.meta.url).pathname;
/** The Python generator of the TLS-resumption workloads (same protocol as LOADGEN). */
const TLS_LOADGEN = new URL("./tls_loadgen.py", import.meta.url).pathname;

/** CPU seconds per process group inside the window. */
export interface CpuSplit {
  proxy: number;
  auth: number;
  backend: number;
  generator: number;
}

/** The outcome of one cell. */
export interface CellResult {
  workload: string;
  target: string;
  run: number;
  /** In the workload's unit (logins/s, msgs/s, MB/s with MB = 10^6 bytes). */
  value: number;
  ops: number;
  bytes: number;
  errors: number;
  firstError?: string;
  windowS: number;
  cpu: CpuSplit;
  /** Host CPU steal share (0–1) during the window. */
  steal: number;
  /** Host CPU busy share (0–1) during the window. */
  busy: number;
  /** How many times the cell was run (steal retries). */
  attempts: number;
}

/** How a cell is run. */
export interface CellOptions {
  durationS: number;
  warmupS: number;
  /** Generator processes (clients are split between them). */
  generators: number;
  run: number;
}

function groupCpu(lab: BenchLab, target: Target, generators: number[]): CpuSplit {
  const backend = [lab.dovecotPid(), lab.postfixPid()].filter((p): p is number => p !== undefined && p > 0);
  return {
    proxy: target.kind === "direct" ? 0 : treeCpuSeconds(target.proxyRoots()),
    auth: treeCpuSeconds([lab.auth.pid]),
    backend: treeCpuSeconds(backend),
    generator: treeCpuSeconds(generators),
  };
}

/** Runs `workload` against `target` once. Throws only when the generator cannot start. */
export async function runCell(
  lab: BenchLab,
  target: Target,
  workload: Workload,
  opts: CellOptions,
): Promise<CellResult> {
  const port = target.ports[workload.service]!;
  const count = Math.max(1, Math.min(opts.generators, workload.clients));
  const procs: { proc: Spawned; lines: LineReader }[] = [];
  let offset = 0;
  for (let g = 0; g < count; g++) {
    const clients = Math.floor(workload.clients / count) + (g < workload.clients % count ? 1 : 0);
    const python = workload.generator === "python-tls";
    const args = [
      ...(python ? [TLS_LOADGEN] : ["run", "-A", LOADGEN]),
      "--op",
      workload.op,
      "--port",
      String(port),
      "--clients",
      String(clients),
      "--client-offset",
      String(offset),
      "--users",
      String(BENCH_USERS),
      ...workload.args,
    ];
    if (workload.service === "imaps") args.push("--ca", lab.caPath);
    offset += clients;
    const proc = spawnProcess(python ? "python3" : Deno.execPath(), args, {
      pipeStdout: true,
      pipeStdin: true,
      logFile: `${lab.dir}/loadgen.log`,
    });
    procs.push({ proc, lines: new LineReader(proc.child.stdout) });
  }
  try {
    for (const { lines } of procs) {
      const line = await lines.next(60_000);
      if (line !== "ready") throw new Error(`generator not ready: ${line ?? "no output"}`);
    }
    const start = Date.now() + opts.warmupS * 1000;
    const end = start + opts.durationS * 1000;
    for (const { proc } of procs) await sendLine(proc.child, `go ${start} ${end}`);
    const pids = procs.map((p) => p.proc.pid);
    await sleep(start - Date.now());
    const cpu0 = groupCpu(lab, target, pids);
    const host0 = cpuSample();
    await sleep(end - Date.now());
    const cpu1 = groupCpu(lab, target, pids);
    const host1 = cpuSample();
    const results: GeneratorResult[] = [];
    for (const { lines } of procs) {
      const line = await lines.next(30_000);
      if (!line?.startsWith("result ")) throw new Error(`generator failed: ${line ?? "no result"}`);
      results.push(JSON.parse(line.slice(7)));
    }
    const windowS = opts.durationS;
    const ops = results.reduce((s, r) => s + r.ops, 0);
    const bytes = results.reduce((s, r) => s + r.bytes, 0);
    const shares = cpuShares(host0, host1);
    return {
      workload: workload.name,
      target: target.name,
      run: opts.run,
      value: workload.unit === "MB/s" ? bytes / 1e6 / windowS : ops / windowS,
      ops,
      bytes,
      errors: results.reduce((s, r) => s + r.errors, 0),
      firstError: results.find((r) => r.firstError)?.firstError,
      windowS,
      cpu: {
        proxy: cpu1.proxy - cpu0.proxy,
        auth: cpu1.auth - cpu0.auth,
        backend: cpu1.backend - cpu0.backend,
        generator: cpu1.generator - cpu0.generator,
      },
      steal: shares.steal,
      busy: shares.busy,
      attempts: 1,
    };
  } finally {
    await Promise.all(procs.map(async ({ proc, lines }) => {
      const drained = lines.drain();
      await Promise.race([proc.status, sleep(10_000)]);
      await proc.stop(1000);
      await drained;
    }));
  }
}
