/**
 * Summarizes a V8 `.cpuprofile` (from `deno run --cpu-prof`): self time per function, top first.
 * @module
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** One line of the summary. */
export interface SelfTime {
  name: string;
  where: string;
  ms: number;
  /** Share of the non-idle time. */
  share: number;
}

/** Self time per function (name + file:line), sorted; `(idle)` and `(program)` excluded from shares. */
export function selfTimes(profile: CpuProfile): { top: SelfTime[]; busyMs: number; idleMs: number } {
  const byNode = new Map<number, ProfileNode>(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, SelfTime>();
  let busyMs = 0;
  let idleMs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byNode.get(profile.samples[i]);
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === "(idle)") {
      idleMs += ms;
      continue;
    }
    busyMs += ms;
    const file = url.replace(/^.*\/(main|node_modules|ext|node)\//, "$1/").replace(/^file:\/\/.*\//, "");
    const where = url ? `${file}:${lineNumber + 1}` : "";
    const name = functionName || "(anonymous)";
    const key = `${name}@${where}`;
    const entry = totals.get(key) ?? { name, where, ms: 0, share: 0 };
    entry.ms += ms;
    totals.set(key, entry);
  }
  const top = [...totals.values()].sort((a, b) => b.ms - a.ms);
  for (const t of top) t.share = busyMs > 0 ? t.ms / busyMs : 0;
  return { top, busyMs, idleMs };
}

/** Which part of the program a profile entry belongs to, for the per-area summary. */
export function areaOf(t: SelfTime): string {
  if (t.name.startsWith("op_")) return "runtime ops (syscalls: socket I/O, connect, accept, close)";
  if (t.name === "(garbage collector)") return "garbage collector";
  if (t.name === "(program)") return "(program: V8/runtime native)";
  if (/logtape|lib\/log\//.test(t.where)) return "logging (lib/log, logtape)";
  const lib = /main\/lib\/([a-z_]+)\//.exec(t.where);
  if (lib) return `lib/${lib[1]}`;
  if (t.where.startsWith("ext:")) return "Deno runtime JS (ext:)";
  if (t.where.includes("node_modules")) return "npm packages";
  return "other";
}

/** Self time summed per {@link areaOf}. */
export function areaTable(top: SelfTime[]): string {
  const areas = new Map<string, number>();
  for (const t of top) areas.set(areaOf(t), (areas.get(areaOf(t)) ?? 0) + t.share);
  const rows = ["| area | self % |", "| --- | --- |"];
  for (const [area, share] of [...areas].sort((a, b) => b[1] - a[1])) {
    if (share >= 0.001) rows.push(`| ${area} | ${(share * 100).toFixed(1)} |`);
  }
  return rows.join("\n");
}

/** The summary as a Markdown table of the `limit` largest entries. */
export function profileTable(path: string, limit = 20): string {
  const profile = JSON.parse(Deno.readTextFileSync(path)) as CpuProfile;
  const { top, busyMs, idleMs } = selfTimes(profile);
  const rows = [
    `busy ${(busyMs / 1000).toFixed(1)} s, idle ${(idleMs / 1000).toFixed(1)} s (${path})`,
    "",
    "| self % | self ms | function | where |",
    "| --- | --- | --- | --- |",
  ];
  for (const t of top.slice(0, limit)) {
    rows.push(`| ${(t.share * 100).toFixed(1)} | ${t.ms.toFixed(0)} | ${t.name} | ${t.where} |`);
  }
  return `${rows.join("\n")}\n\n${areaTable(top)}`;
}

if (import.meta.main) {
  for (const path of Deno.args) console.log(profileTable(path, 30));
}
