/**
 * The folder rules of docs/architecture.md, checked on every import under lib/:
 *
 * 1. Floors: a folder imports only folders on lower floors (no arrow runs upward, no cycle
 *    between folders).
 * 2. Entry points: code outside a folder imports it through its `mod.ts`; `lib/util/` and
 *    the ground-floor files (`lib/types.ts`, …) are imported by file.
 * 3. A `mod.ts` is the folder's public face: a module comment and re-exports, no logic.
 *
 * Test files (`*_test.ts`, `test_support.ts`, config's `testing.ts`) may reach any file
 * they test. Folders being reshaped on other branches are listed in PENDING with the
 * reason; the lead removes an entry when that work is merged.
 */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { ROOT, sourceFiles } from "./helpers/source_files.ts";

/** The floors, lowest first; a folder may import folders on lower floors only. */
export const FLOORS: readonly (readonly string[])[] = [
  ["(root)", "util"],
  ["transport", "sasl", "metrics"],
  ["access", "relay", "proxy_protocol"],
  ["config", "limits"],
  ["auth", "tls", "resolver", "log", "convert"],
  ["upstream"],
  ["protocols"],
  ["session"],
  ["admin"],
  ["server"],
  ["cli"],
];

/** Rule 2 and 3 wait for work on other branches in these places. */
const PENDING = {
  /** Folders that may still bypass entry points while they are reshaped (none now). */
  entryPointFolders: new Set<string>([]),
  /** mod.ts files that may still hold logic (none now). */
  modWithLogic: new Set<string>([]),
};

/** Folders imported by file: no mod.ts. */
const BY_FILE = new Set(["(root)", "util"]);

const TEST_FILE = /(?:_test\.tsx?|\/test_support\.ts|\/config\/testing\.ts)$/;

/** The relative specifiers a source imports or re-exports (static and dynamic). */
export function importsOf(source: string): string[] {
  const text = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|[;\s])(?:import|export)\s[^;]*?\sfrom\s*"(\.[^"]+)"/g)) out.push(m[1]);
  for (const m of text.matchAll(/(?:^|[;\s])import\s*"(\.[^"]+)"/g)) out.push(m[1]);
  for (const m of text.matchAll(/import\(\s*"(\.[^"]+)"\s*\)/g)) out.push(m[1]);
  return out;
}

/** `lib/auth/x.ts` → `auth`; `lib/types.ts` → `(root)`; outside lib → null. */
function folderOf(path: string): string | null {
  const parts = path.split("/");
  if (parts[0] !== "lib") return null;
  return parts.length === 2 ? "(root)" : parts[1];
}

function floorOf(folder: string): number {
  return FLOORS.findIndex((floor) => floor.includes(folder));
}

/** Whether a mod.ts holds anything besides comments and `export … from` lines. */
export function hasLogic(source: string): boolean {
  const text = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const rest = text.replace(/export\s+(?:type\s+)?(?:\*|\{[^}]*\})\s*from\s*"[^"]+";/g, "");
  return rest.trim() !== "";
}

/** Every broken rule among `files` (path → source text). */
export function violations(files: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  for (const [file, source] of files) {
    const from = folderOf(file)!;
    if (floorOf(from) < 0) {
      out.push(`${file}: folder "${from}" has no floor (add it to FLOORS and docs/architecture.md)`);
      continue;
    }
    const isTest = TEST_FILE.test(file);
    if (file.endsWith("/mod.ts") && !PENDING.modWithLogic.has(file) && hasLogic(source)) {
      out.push(`${file}: a mod.ts holds re-exports only; move the logic into a file of its own`);
    }
    for (const spec of importsOf(source)) {
      const target = normalize(join(dirname(file), spec));
      const to = folderOf(target);
      if (to === null) {
        if (!(isTest && target.startsWith("tests/"))) out.push(`${file}: imports ${target}, outside lib/`);
        continue;
      }
      if (to === from || isTest) continue;
      if (floorOf(to) < 0) {
        out.push(`${file}: imports folder "${to}", which has no floor`);
      } else if (floorOf(to) >= floorOf(from)) {
        out.push(`${file}: imports ${target} — "${to}" is not below "${from}" (arrow runs upward)`);
      }
      const pending = PENDING.entryPointFolders.has(from) || PENDING.entryPointFolders.has(to);
      if (!BY_FILE.has(to) && !pending && target !== `lib/${to}/mod.ts`) {
        out.push(`${file}: imports ${target} — go through lib/${to}/mod.ts`);
      }
    }
  }
  return out;
}

Deno.test("layering: the checker finds upward arrows, bypassed entry points and logic in mod.ts", () => {
  const found = violations(
    new Map([
      ["lib/config/kinds.ts", 'import { isPasswordHash } from "../auth/mod.ts";'],
      ["lib/server/x.ts", 'import type { Conn } from "../transport/types.ts";\nimport "../util/bytes.ts";'],
      ["lib/auth/mod.ts", 'export { a } from "./a.ts";\nexport const cache = new Map();'],
      ["lib/newfolder/a.ts", ""],
      [
        "lib/auth/x_test.ts",
        'import { x } from "../server/mailproxy.ts";\nimport "../../tests/helpers/run.ts";',
      ],
      ["lib/auth/y.ts", 'const t = await import("../../tests/helpers/run.ts");'],
    ]),
  );
  assert.deepEqual(found, [
    'lib/config/kinds.ts: imports lib/auth/mod.ts — "auth" is not below "config" (arrow runs upward)',
    "lib/server/x.ts: imports lib/transport/types.ts — go through lib/transport/mod.ts",
    "lib/auth/mod.ts: a mod.ts holds re-exports only; move the logic into a file of its own",
    'lib/newfolder/a.ts: folder "newfolder" has no floor (add it to FLOORS and docs/architecture.md)',
    "lib/auth/y.ts: imports tests/helpers/run.ts, outside lib/",
  ]);
});

Deno.test("layering: imports are found in every form", () => {
  assert.deepEqual(
    importsOf(
      'import a from "./a.ts";\nimport type {\n  B,\n} from "../b/mod.ts";\nexport * from "./c.ts";\n' +
        'import "./d.ts";\nconst e = await import("./e.ts");\n// import x from "./commented.ts";\n' +
        'import process from "node:process";',
    ),
    ["./a.ts", "../b/mod.ts", "./c.ts", "./d.ts", "./e.ts"],
  );
});

Deno.test("layering: every folder under lib/ follows the rules of docs/architecture.md", () => {
  const files = new Map(sourceFiles("lib").map((f) => [f, readFileSync(join(ROOT, f), "utf8")]));
  assert.ok(files.size > 100, `only ${files.size} files found under lib/`);
  assert.deepEqual(violations(files), []);
  // Every folder on a floor exists, has a mod.ts unless imported by file, and is documented.
  const doc = readFileSync(join(ROOT, "docs/architecture.md"), "utf8");
  for (const folder of FLOORS.flat()) {
    if (folder === "(root)") continue;
    const has = [...files.keys()].some((f) => f.startsWith(`lib/${folder}/`));
    assert.ok(has, `FLOORS names lib/${folder}/, which does not exist`);
    if (!BY_FILE.has(folder) && !PENDING.entryPointFolders.has(folder)) {
      assert.ok(files.has(`lib/${folder}/mod.ts`), `lib/${folder}/ has no mod.ts`);
    }
    assert.ok(
      doc.includes(`### \`lib/${folder}/\``),
      `docs/architecture.md has no section for lib/${folder}/`,
    );
  }
});

Deno.test("layering: the README shows the same picture as docs/architecture.md", () => {
  const picture = (file: string) => {
    const text = readFileSync(join(ROOT, file), "utf8");
    const m = /```mermaid\n[\s\S]*?```/.exec(text);
    assert.ok(m, `${file} has no mermaid picture`);
    return m[0];
  };
  assert.equal(picture("README.md"), picture("docs/architecture.md"));
});
