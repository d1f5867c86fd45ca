/**
 * What the benchmark reads from /proc: CPU time of whole process trees, resident memory and the
 * host's CPU steal. Linux only, like the lab.
 * @module
 */

/** Clock ticks per second of utime/stime in /proc/PID/stat (USER_HZ, 100 on Linux x86). */
export const CLOCK_TICKS = 100;

/** Fields of /proc/PID/stat after the command name (field 3 = index 0). */
function statFields(pid: number): string[] | undefined {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return text.slice(text.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/** Every process with its parent, from one pass over /proc. */
function parentMap(): Map<number, number> {
  const parents = new Map<number, number>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const fields = statFields(Number(entry.name));
    if (fields) parents.set(Number(entry.name), Number(fields[1]));
  }
  return parents;
}

/** `roots` and all their live descendants. */
export function processTree(roots: readonly number[]): number[] {
  const parents = parentMap();
  const out = new Set(roots.filter((pid) => parents.has(pid)));
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, parent] of parents) {
      if (!out.has(pid) && out.has(parent)) {
        out.add(pid);
        grew = true;
      }
    }
  }
  return [...out];
}

/**
 * CPU seconds used so far by the trees under `roots`: utime+stime of every live process plus
 * cutime+cstime (children already reaped). A child that exits moves its time into its parent's
 * cutime, so the sum stays continuous while Dovecot forks and reaps login and imap processes.
 */
export function treeCpuSeconds(roots: readonly number[]): number {
  let ticks = 0;
  for (const pid of processTree(roots)) {
    const f = statFields(pid);
    if (!f) continue;
    // utime, stime, cutime, cstime are fields 14–17 (indices 11–14 here).
    ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  }
  return ticks / CLOCK_TICKS;
}

/** VmRSS in kB of one process (0 when it is gone). */
export function rssKb(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Summed VmRSS in kB of the trees under `roots` (nginx: master and worker). */
export function treeRssKb(roots: readonly number[]): number {
  return processTree(roots).reduce((sum, pid) => sum + rssKb(pid), 0);
}

/** The aggregate `cpu` line of /proc/stat: total and steal jiffies. */
export interface CpuSample {
  total: number;
  steal: number;
  idle: number;
}

/** Reads the aggregate CPU counters of the host. */
export function cpuSample(): CpuSample {
  const line = Deno.readTextFileSync("/proc/stat").split("\n")[0];
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user.
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { total, steal: v[7] ?? 0, idle: (v[3] ?? 0) + (v[4] ?? 0) };
}

/** Steal and busy shares (0–1) of the host CPU between two samples. */
export function cpuShares(a: CpuSample, b: CpuSample): { steal: number; busy: number } {
  const total = b.total - a.total;
  if (total <= 0) return { steal: 0, busy: 0 };
  return { steal: (b.steal - a.steal) / total, busy: 1 - (b.idle - a.idle) / total };
}

/** Number of online CPUs. */
export function cpuCount(): number {
  return Deno.readTextFileSync("/proc/stat").split("\n").filter((l) => /^cpu\d+ /.test(l)).length;
}
