/**
 * Every "spec §X" that a comment in lib/ cites must resolve inside a clone: the nginx
 * behaviour spec lives in docs/spec/nginx-mail.md, and §X must be one of its headings.
 * Section signs after "RFC NNNN" cite the RFC, not the spec, and are left alone.
 */

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, sourceFiles } from "./helpers/source_files.ts";

/** Section numbers of the headings of the spec documents (`### 3.4 Decision…` → `3.4`). */
function specSections(): Set<string> {
  const sections = new Set<string>();
  for (const name of readdirSync(join(ROOT, "docs/spec"))) {
    if (!name.endsWith(".md")) continue;
    const text = readFileSync(join(ROOT, "docs/spec", name), "utf8");
    for (const m of text.matchAll(/^#{2,6}\s+(\d+(?:\.\d+)*)\.?\s/gm)) sections.add(m[1]);
  }
  return sections;
}

/**
 * The spec sections a source text cites. Comment continuation markers are folded first so
 * that "(spec\n * §2.1)" and "RFC 5321\n * §3.8" read as one line.
 */
export function citedSections(source: string): string[] {
  const text = source.replace(/\n\s*(?:\*|\/\/)\s?/g, " ");
  const out: string[] = [];
  for (const m of text.matchAll(/(RFC\s*\d+\s*)?§\s*(\d+(?:\.\d+)*)/g)) {
    if (m[1] === undefined) out.push(m[2]);
  }
  return out;
}

Deno.test("citedSections: spec references count, RFC section references do not", () => {
  assert.deepEqual(citedSections("// spec §3.4 and RFC 5321 §3.8, (spec\n * §2.1)"), ["3.4", "2.1"]);
  assert.deepEqual(citedSections("/** RFC 9051\n * §7.1.5 */"), []);
});

Deno.test("docs/spec has the headings the spec's own numbering implies", () => {
  const sections = specSections();
  for (const s of ["1", "1.2", "2.1", "3.4", "4.0.6", "4.3.5", "5.1", "6.9"]) {
    assert.ok(sections.has(s), `docs/spec lacks a heading for §${s}`);
  }
});

Deno.test("every spec § cited under lib/ is a heading in docs/spec/", () => {
  const sections = specSections();
  const missing: string[] = [];
  let cited = 0;
  for (const file of sourceFiles("lib")) {
    for (const section of citedSections(readFileSync(join(ROOT, file), "utf8"))) {
      cited++;
      if (!sections.has(section)) missing.push(`${file}: §${section}`);
    }
  }
  assert.ok(cited >= 50, `only ${cited} citations found: is the pattern still right?`);
  assert.deepEqual(missing, [], "citations of sections docs/spec/ does not have");
});
