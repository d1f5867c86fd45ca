/**
 * Human lines saying which `[[server]]` settings a reload changed, for the reload
 * response and the log. Values are not shown: some (auth_http_header) may be secret.
 * @module
 */

import type { ServerConfig } from "../config/mod.ts";

/** Keys that are positions in the file, not settings. */
const IGNORED = new Set(["index", "line"]);

/** One line per server whose settings differ, naming the changed keys. */
export function serverChanges(before: readonly ServerConfig[], after: readonly ServerConfig[]): string[] {
  const out: string[] = [];
  after.forEach((next, i) => {
    const prev = before[i];
    const label = `server #${i + 1} (${next.protocol})`;
    if (!prev) {
      out.push(`${label} added`);
      return;
    }
    const keys = (Object.keys(next) as (keyof ServerConfig)[]).filter((k) =>
      !IGNORED.has(k) && JSON.stringify(prev[k]) !== JSON.stringify(next[k])
    );
    if (keys.length > 0) out.push(`${label}: ${keys.join(", ")} changed (new sessions only)`);
  });
  for (let i = after.length; i < before.length; i++) {
    out.push(`server #${i + 1} (${before[i].protocol}) removed`);
  }
  return out;
}
