/**
 * The repository's TypeScript sources, for tests that check rules over all of them
 * (layering, spec citations).
 * @module
 */

import { readdirSync } from "node:fs";
import { join } from "node:path";

/** The repository root (with a trailing slash). */
export const ROOT: string = new URL("../../", import.meta.url).pathname;

/** Every .ts/.tsx file under `dir` (relative to the root), as root-relative paths. */
export function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (/\.tsx?$/.test(entry.name)) out.push(path);
  }
  return out;
}
