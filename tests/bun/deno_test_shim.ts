/**
 * Lets the unit tests (written with `Deno.test`) run under `bun test`: a preload that
 * maps the few Deno APIs they use onto bun:test and node:process.
 * Used by tests/bun_unit_test.ts: `bun test --preload ./tests/bun/deno_test_shim.ts lib/`.
 */

// @ts-ignore: bun:test exists only under Bun; this file is never loaded by Deno.
import { test } from "bun:test";
import process from "node:process";

type Fn = (t: { step: (name: string, fn: () => unknown) => Promise<boolean> }) => unknown;
type Def = { name: string; fn: Fn; ignore?: boolean };

const context = {
  async step(_name: string, fn: () => unknown): Promise<boolean> {
    await fn();
    return true;
  },
};

function denoTest(nameOrDef: string | Def, maybeFn?: Fn): void {
  const def: Def = typeof nameOrDef === "string" ? { name: nameOrDef, fn: maybeFn! } : nameOrDef;
  if (def.ignore) throw new Error(`ignored test "${def.name}" is not allowed`);
  test(def.name, () => def.fn(context), 60_000);
}

(globalThis as Record<string, unknown>).Deno = { test: denoTest, cwd: () => process.cwd() };
