/**
 * Turns cell results into the benchmark's Markdown tables: medians per workload and target,
 * mailproxy's ratios to nginx and to direct, CPU cost per process group, and warnings (errors,
 * steal, a generator near saturation).
 * @module
 */

import type { CellResult } from "./cell.ts";
import { costUnit, type Workload } from "./workloads.ts";

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** A cell that could not run, with the reason. */
export type NotApplicable = { workload: string; target: string; reason: string };

/** Results of the throughput part. */
export interface ThroughputReport {
  workloads: readonly Workload[];
  targets: readonly string[];
  cells: CellResult[];
  na: NotApplicable[];
  stealLimit: number;
  cores: number;
}

/** The nginx variant a mailproxy target is compared with (same buffers). */
export function nginxPeer(target: string): string {
  return target.includes("64k") ? "nginx-64k" : "nginx";
}

function fmt(value: number): string {
  if (!Number.isFinite(value)) return "–";
  if (value >= 100) return Math.round(value).toLocaleString("en-US").replace(/,/g, " ");
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function pct(share: number): string {
  return `${(share * 100).toFixed(0)} %`;
}

function cellsOf(r: ThroughputReport, workload: string, target: string): CellResult[] {
  return r.cells.filter((c) => c.workload === workload && c.target === target);
}

/** Median value of a workload/target, or undefined. */
export function medianValue(r: ThroughputReport, workload: string, target: string): number | undefined {
  const cells = cellsOf(r, workload, target);
  return cells.length ? median(cells.map((c) => c.value)) : undefined;
}

function naReason(r: ThroughputReport, workload: string, target: string): string | undefined {
  return r.na.find((n) => n.workload === workload && n.target === target)?.reason;
}

/** The main table: medians per target and the worst steal per workload. */
export function throughputTable(r: ThroughputReport): string {
  const head = ["workload", "unit", ...r.targets, "max steal"];
  const rows = [head, head.map(() => "---")];
  const notes: string[] = [];
  for (const w of r.workloads) {
    const row = [w.name, w.unit];
    for (const t of r.targets) {
      const v = medianValue(r, w.name, t);
      const reason = naReason(r, w.name, t);
      if (v !== undefined) row.push(fmt(v) + (errorsOf(r, w.name, t) ? " ⚠" : ""));
      else if (reason) {
        notes.push(`- ${w.name} / ${t}: n/a (${reason})`);
        row.push("n/a");
      } else row.push("–");
    }
    const steals = r.cells.filter((c) => c.workload === w.name).map((c) => c.steal);
    row.push(steals.length ? pct(Math.max(...steals)) : "–");
    rows.push(row);
  }
  return [...rows.map((cols) => `| ${cols.join(" | ")} |`), "", ...notes].join("\n");
}

/** The ratio of two medians, or "–". */
function ratio(r: ThroughputReport, workload: string, a: string, b: string): string {
  const av = medianValue(r, workload, a);
  const bv = medianValue(r, workload, b);
  return av && bv ? fmt(av / bv) : "–";
}

/**
 * mailproxy's ratios per workload: to the nginx with the same buffers, to direct, and for the
 * two-process targets to one process; with nginx/direct here and in the issue for context.
 */
export function ratioTable(r: ThroughputReport): string {
  const head = ["workload", "mailproxy target", "÷ nginx (same buffers)", "÷ direct", "÷ 1 process"];
  head.push("nginx ÷ direct here", "nginx ÷ direct (issue)");
  const rows = [head, head.map(() => "---")];
  for (const w of r.workloads) {
    for (const m of r.targets.filter((t) => t.startsWith("mailproxy"))) {
      if (medianValue(r, w.name, m) === undefined) continue;
      const peer = nginxPeer(m);
      const ref = w.reference[peer as "nginx" | "nginx-64k"];
      rows.push([
        w.name,
        m,
        `${ratio(r, w.name, m, peer)} (vs ${peer})`,
        ratio(r, w.name, m, "direct"),
        m.endsWith("-w2") ? ratio(r, w.name, m, m.replace(/-w2$/, "")) : "",
        ratio(r, w.name, peer, "direct"),
        ref && w.reference.direct ? fmt(ref / w.reference.direct) : "–",
      ]);
    }
  }
  return rows.map((cols) => `| ${cols.join(" | ")} |`).join("\n");
}

/**
 * What a resumed IMAPS login costs against a full one, per target, from the same run:
 * logins/s and the proxy's (or, for direct, Dovecot's) CPU per 1 000 logins, resumed ÷ full.
 * Empty when the run had not both workloads.
 */
export function resumptionTable(r: ThroughputReport): string {
  const full = r.workloads.find((w) => w.name === "imaps_login_full");
  const resumed = r.workloads.find((w) => w.name === "imaps_login_resumed");
  if (!full || !resumed) return "";
  const cpuPer1000 = (workload: string, target: string) => {
    const cells = cellsOf(r, workload, target);
    const pick = (c: CellResult) => (target === "direct" ? c.cpu.backend : c.cpu.proxy);
    return cells.length ? median(cells.map((c) => (c.ops > 0 ? pick(c) / (c.ops / 1000) : NaN))) : NaN;
  };
  const head = [
    "target",
    "logins/s full",
    "logins/s resumed",
    "resumed ÷ full",
    "CPU s/1000 full",
    "CPU s/1000 resumed",
    "resumed ÷ full (CPU)",
  ];
  const rows = [head, head.map(() => "---")];
  for (const t of r.targets) {
    const a = medianValue(r, full.name, t);
    const b = medianValue(r, resumed.name, t);
    if (a === undefined || b === undefined) continue;
    const ca = cpuPer1000(full.name, t);
    const cb = cpuPer1000(resumed.name, t);
    rows.push([t, fmt(a), fmt(b), fmt(b / a), fmt(ca), fmt(cb), fmt(cb / ca)]);
  }
  return rows.map((cols) => `| ${cols.join(" | ")} |`).join("\n");
}

function errorsOf(r: ThroughputReport, workload: string, target: string): number {
  return cellsOf(r, workload, target).reduce((s, c) => s + c.errors, 0);
}

/** CPU seconds per 1 000 operations or per GB, per process group, medians over runs. */
export function cpuTable(r: ThroughputReport): string {
  const head = [
    "workload",
    "target",
    "cost unit",
    "proxy",
    "auth",
    "backend",
    "generator",
    "gen. cores",
    "host busy",
  ];
  const rows = [head, head.map(() => "---")];
  for (const w of r.workloads) {
    for (const t of r.targets) {
      const cells = cellsOf(r, w.name, t);
      if (!cells.length) continue;
      const per = (c: CellResult) => (w.unit === "MB/s" ? c.bytes / 1e9 : c.ops / 1000);
      const cost = (pick: (c: CellResult) => number) =>
        fmt(median(cells.map((c) => (per(c) > 0 ? pick(c) / per(c) : NaN))));
      rows.push([
        w.name,
        t,
        costUnit(w.unit),
        t === "direct" ? "–" : cost((c) => c.cpu.proxy),
        t === "direct" ? "–" : cost((c) => c.cpu.auth),
        cost((c) => c.cpu.backend),
        cost((c) => c.cpu.generator),
        fmt(median(cells.map((c) => c.cpu.generator / c.windowS))),
        pct(median(cells.map((c) => c.busy))),
      ]);
    }
  }
  return rows.map((cols) => `| ${cols.join(" | ")} |`).join("\n");
}

/** Errors, steal and generator-saturation warnings. */
export function warnings(r: ThroughputReport): string[] {
  const out: string[] = [];
  for (const c of r.cells) {
    const where = `${c.workload} / ${c.target} run ${c.run}`;
    if (c.errors > 0) out.push(`${where}: ${c.errors} failed operations (first: ${c.firstError})`);
    if (c.steal > r.stealLimit) {
      out.push(
        `${where}: host steal ${pct(c.steal)} after ${c.attempts} attempt(s): disturbed, treat with care`,
      );
    }
    const genCores = c.cpu.generator / c.windowS;
    const total = c.cpu.proxy + c.cpu.auth + c.cpu.backend + c.cpu.generator;
    // One event loop saturates at one core: near that, the generator, not the target, sets the pace.
    if (genCores > 0.85) {
      out.push(
        `${where}: generator used ${fmt(genCores)} cores (limit ~1 per process): may be generator-bound`,
      );
    } else if (total > 0 && c.cpu.generator / total > 0.4 && c.busy > 0.9) {
      out.push(`${where}: generator took ${pct(c.cpu.generator / total)} of the CPU on a saturated host`);
    }
  }
  return out;
}

/** Median CPU milliseconds of the proxy tree per operation of a workload/target, or NaN. */
export function cpuMsPerOp(r: ThroughputReport, workload: string, target: string): number {
  const cells = cellsOf(r, workload, target).filter((c) => c.ops > 0);
  return cells.length ? median(cells.map((c) => (c.cpu.proxy * 1000) / c.ops)) : NaN;
}

/**
 * Issue #19: CPU ms per login of each mailproxy target next to nginx's and its runtime's floor
 * (floor-deno / floor-bun), with mailproxy ÷ nginx and mailproxy ÷ floor side by side, for
 * every login workload the floor ran. Empty when no floor target ran.
 */
export function floorTable(r: ThroughputReport): string {
  const head = ["workload", "mailproxy target", "CPU ms/login", "nginx", "floor", "÷ nginx", "÷ floor"];
  const rows = [head, head.map(() => "---")];
  for (const w of r.workloads.filter((x) => x.unit === "logins/s")) {
    for (const m of r.targets.filter((t) => t.startsWith("mailproxy") && !t.includes("64k"))) {
      const own = cpuMsPerOp(r, w.name, m);
      if (!Number.isFinite(own)) continue;
      const floorName = m.startsWith("mailproxy-bun") ? "floor-bun" : "floor-deno";
      const nginx = cpuMsPerOp(r, w.name, "nginx");
      const floor = cpuMsPerOp(r, w.name, floorName);
      if (!Number.isFinite(floor)) continue;
      rows.push([
        w.name,
        m,
        fmt(own),
        fmt(nginx),
        `${fmt(floor)} (${floorName})`,
        fmt(own / nginx),
        fmt(own / floor),
      ]);
    }
  }
  return rows.length > 2 ? rows.map((cols) => `| ${cols.join(" | ")} |`).join("\n") : "";
}
