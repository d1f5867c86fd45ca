/**
 * Memory per idle authenticated IMAP session: a fresh proxy per measurement, VmRSS of its
 * processes before and after N sessions logged in through it (to {@link idle_backend.ts}),
 * divided by N.
 * @module
 */

import type { BenchLab } from "./lab.ts";
import { startAuthProcess } from "./lab.ts";
import { treeRssKb } from "./proc.ts";
import { LineReader, sendLine, sleep, spawnProcess } from "./spawn.ts";
import type { Target } from "./targets.ts";

const LOADGEN = new URL("./loadgen.ts", import.meta.url).pathname;
const BACKEND = new URL("./idle_backend.ts", import.meta.url).pathname;

/** One idle-memory measurement. */
export interface IdleResult {
  target: string;
  sessions: number;
  opened: number;
  errors: number;
  firstError?: string;
  beforeKb: number;
  afterKb: number;
  /** (after − before) / opened, kB. */
  perSessionKb: number;
}

/** Starts a target whose only server is IMAP with the given auth_http URL. */
export type IdleTargetFactory = (authUrl: string) => Promise<Target>;

/** Runs the idle-session measurement for each target factory and session count. */
export async function runIdle(
  lab: BenchLab,
  factories: { name: string; start: IdleTargetFactory }[],
  counts: number[],
  log: (line: string) => void,
): Promise<{ results: IdleResult[]; na: { target: string; reason: string }[] }> {
  const backend = spawnProcess(Deno.execPath(), ["run", "-A", BACKEND], {
    pipeStdout: true,
    logFile: `${lab.dir}/idle_backend.log`,
  });
  const backendLines = new LineReader(backend.child.stdout);
  const results: IdleResult[] = [];
  const na: { target: string; reason: string }[] = [];
  try {
    const first = await backendLines.next(30_000);
    const port = Number(first?.split(" ")[1]);
    if (!port) throw new Error(`idle backend did not start: ${first}`);
    backendLines.drain();
    const auth = await startAuthProcess(lab.dir, "auth-idle", { imap: `127.0.0.1:${port}` });
    try {
      for (const { name, start } of factories) {
        for (const sessions of counts) {
          log(`idle sessions: ${name}, ${sessions}`);
          const target = await start(auth.url);
          try {
            if (target.ports.imap === undefined) {
              na.push({ target: name, reason: target.missing.imap ?? "no IMAP" });
              break;
            }
            results.push(await measure(lab, target, sessions));
          } finally {
            await target.stop();
          }
        }
      }
    } finally {
      await auth.stop();
    }
  } finally {
    await backend.stop();
  }
  return { results, na };
}

async function measure(lab: BenchLab, target: Target, sessions: number): Promise<IdleResult> {
  await sleep(1500);
  const beforeKb = treeRssKb(target.proxyRoots());
  const gen = spawnProcess(
    Deno.execPath(),
    [
      "run",
      "-A",
      LOADGEN,
      "--op",
      "idle",
      "--port",
      String(target.ports.imap),
      "--sessions",
      String(sessions),
    ],
    { pipeStdout: true, pipeStdin: true, logFile: `${lab.dir}/loadgen.log` },
  );
  const lines = new LineReader(gen.child.stdout);
  try {
    const line = await lines.next(300_000);
    if (!line?.startsWith("ready ")) throw new Error(`idle generator failed: ${line ?? "no output"}`);
    const ready = JSON.parse(line.slice(6)) as { sessions: number; errors: number; firstError?: string };
    // Let the runtimes settle (GC, freed login-time buffers) before reading resident memory.
    await sleep(3000);
    const afterKb = treeRssKb(target.proxyRoots());
    await sendLine(gen.child, "close");
    return {
      target: target.name,
      sessions,
      opened: ready.sessions,
      errors: ready.errors,
      firstError: ready.firstError,
      beforeKb,
      afterKb,
      perSessionKb: ready.sessions > 0 ? (afterKb - beforeKb) / ready.sessions : NaN,
    };
  } finally {
    const drained = lines.drain();
    await Promise.race([gen.status, sleep(20_000)]);
    await gen.stop(1000);
    await drained;
    // Sockets of 5 000 sessions take a moment to close on every side.
    await sleep(1000);
  }
}

/** The idle-memory table, with the marginal cost between the smallest and largest count. */
export function idleTable(results: IdleResult[], na: { target: string; reason: string }[]): string {
  const rows = [
    "| target | sessions | opened | RSS before (MB) | RSS after (MB) | kB per session | marginal kB per session |",
    "| --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const r of results) {
    // Growth from the smallest to this count: fixed costs (V8's young generation grown by the
    // login burst, allocator arenas) cancel out.
    const base = results.filter((x) => x.target === r.target).sort((a, b) => a.opened - b.opened)[0];
    const marginal = base && base.opened < r.opened
      ? ((r.afterKb - r.beforeKb) - (base.afterKb - base.beforeKb)) / (r.opened - base.opened)
      : NaN;
    rows.push(
      `| ${r.target} | ${r.sessions} | ${r.opened}${
        r.errors ? ` (${r.errors} failed: ${r.firstError})` : ""
      } | ` +
        `${(r.beforeKb / 1024).toFixed(1)} | ${(r.afterKb / 1024).toFixed(1)} | ${
          r.perSessionKb.toFixed(1)
        } | ` +
        `${Number.isFinite(marginal) ? marginal.toFixed(1) : ""} |`,
    );
  }
  for (const n of na) rows.push(`| ${n.target} | – | n/a (${n.reason}) | | | | |`);
  return rows.join("\n");
}
