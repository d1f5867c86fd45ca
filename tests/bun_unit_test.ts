/**
 * The unit tests under `lib/` once more, under Bun's runtime: `bun test` with a preload
 * that maps `Deno.test` onto bun:test. Parsers, state machines, codecs, the node:net
 * transport and the relay must behave the same on both runtimes.
 */

import assert from "node:assert/strict";
import { bunExecutable } from "./helpers/runtimes.ts";

const ROOT = new URL("../", import.meta.url).pathname;

Deno.test("unit tests pass under bun test too", async () => {
  const out = await new Deno.Command(bunExecutable(), {
    args: ["test", "--preload", "./tests/bun/deno_test_shim.ts", "lib/"],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  const summary = text.match(/^\s*(\d+) pass\s*\n\s*(\d+) fail/m);
  assert.ok(summary, `no bun test summary:\n${text.slice(-3000)}`);
  assert.equal(Number(summary[2]), 0, text.slice(-5000));
  assert.ok(Number(summary[1]) >= 150, `only ${summary[1]} tests ran under bun`);
  assert.equal(out.code, 0, text.slice(-3000));
});
