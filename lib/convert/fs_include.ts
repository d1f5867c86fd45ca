/**
 * The file-system side of `include`: resolves a pattern against the main config's
 * directory and expands `*`, `?` and `[…]` per path segment like glob(3) (sorted, no
 * dot files for wildcards). A glob that matches nothing is not an error, as in nginx.
 * @module
 */

import { readdirSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import type { IncludeReader } from "./types.ts";

/** Most files one include may pull in; a runaway glob should not read a whole disk. */
const MAX_FILES = 1000;

const WILDCARD = /[*?[]/;

/** An include reader resolving relative patterns against `baseDir` (absolute). */
export function fsIncludeReader(baseDir: string): IncludeReader {
  return (pattern) => {
    const full = isAbsolute(pattern) ? pattern : join(baseDir, pattern);
    let paths: string[];
    if (!WILDCARD.test(full)) paths = [full];
    else {
      try {
        paths = expandGlob(full);
      } catch (e) {
        return { error: `cannot expand "${full}": ${reason(e)}` };
      }
    }
    if (paths.length > MAX_FILES) return { error: `"${full}" matches more than ${MAX_FILES} files` };
    const files = [];
    for (const path of paths) {
      try {
        if (statSync(path).isDirectory()) return { error: `open() "${path}" failed (Is a directory)` };
        files.push({ path, text: readFileSync(path, "utf8") });
      } catch (e) {
        return { error: `open() "${path}" failed (${reason(e)})` };
      }
    }
    return { files };
  };
}

function reason(e: unknown): string {
  const code = (e as { code?: string }).code;
  if (code === "ENOENT") return "No such file or directory";
  if (code === "EACCES") return "Permission denied";
  return e instanceof Error ? e.message : String(e);
}

/** Paths matching an absolute glob pattern, sorted. */
export function expandGlob(pattern: string): string[] {
  let bases = ["/"];
  for (const segment of pattern.split("/").filter((s) => s !== "")) {
    const next: string[] = [];
    for (const base of bases) {
      if (!WILDCARD.test(segment)) {
        next.push(join(base, segment));
        continue;
      }
      const re = segmentRegExp(segment);
      let names: string[];
      try {
        names = readdirSync(base);
      } catch {
        continue;
      }
      for (const name of names.sort()) {
        if (name.startsWith(".") && !segment.startsWith(".")) continue;
        if (re.test(name)) next.push(join(base, name));
      }
    }
    bases = next;
    if (bases.length > MAX_FILES * 10) break;
  }
  // Literal segments were not checked on the way; keep what exists.
  return bases.filter((p) => {
    try {
      statSync(p);
      return true;
    } catch {
      return false;
    }
  }).sort();
}

/** One path segment's glob as an anchored RegExp. */
export function segmentRegExp(segment: string): RegExp {
  let re = "";
  for (let i = 0; i < segment.length; i++) {
    const ch = segment[i];
    if (ch === "*") re += "[^/]*";
    else if (ch === "?") re += "[^/]";
    else if (ch === "[") {
      const end = segment.indexOf("]", i + 2);
      if (end < 0) {
        re += "\\[";
        continue;
      }
      let body = segment.slice(i + 1, end);
      const negate = body.startsWith("!") || body.startsWith("^");
      if (negate) body = body.slice(1);
      re += `[${negate ? "^" : ""}${body.replace(/[\\\]^]/g, "\\$&")}]`;
      i = end;
    } else re += ch.replace(/[.+^${}()|\\\]]/g, "\\$&");
  }
  return new RegExp(`^${re}$`, "s");
}
