import assert from "node:assert/strict";
import { loadOk } from "../config/testing.ts";
import type { Config, ListenSpec } from "../config/types.ts";
import { listensOf, planListeners } from "./listener_plan.ts";

function config(servers: string): Config {
  return loadOk(`auth_http = "http://127.0.0.1:9000/auth"\n${servers}`);
}

function bound(c: Config): Map<string, ListenSpec> {
  return new Map(listensOf(c.servers).map((l) => [l.address, l.spec]));
}

Deno.test("listener plan: keeps, adds and removes by address", () => {
  const before = config(`[[server]]\nlisten = ["127.0.0.1:2001", "127.0.0.1:2002"]\nprotocol = "imap"\n`);
  const after = config(
    `[[server]]\nlisten = "127.0.0.1:2001"\nprotocol = "imap"\nimap_capabilities = ["IMAP4rev1", "IDLE"]\n` +
      `[[server]]\nlisten = "127.0.0.1:2003"\nprotocol = "imap"\n`,
  );
  const plan = planListeners(bound(before), after.servers);
  assert.deepEqual(plan.keep.map((k) => k.address), ["127.0.0.1:2001"]);
  assert.deepEqual(plan.keep[0].server.imap_capabilities, ["IMAP4rev1", "IDLE"], "kept socket, new settings");
  assert.deepEqual(plan.add.map((k) => [k.address, k.server.index]), [["127.0.0.1:2003", 1]]);
  assert.deepEqual(plan.remove, ["127.0.0.1:2002"]);
  assert.deepEqual(plan.warnings, []);
});

Deno.test("listener plan: socket options on a kept address only warn", () => {
  const before = config(`[[server]]\nlisten = "127.0.0.1:2001"\nprotocol = "imap"\n`);
  const after = config(`[[server]]\nlisten = "127.0.0.1:2001 backlog=64"\nprotocol = "imap"\n`);
  const plan = planListeners(bound(before), after.servers);
  assert.equal(plan.keep.length, 1);
  assert.equal(plan.add.length, 0);
  assert.match(plan.warnings[0], /backlog needs a restart/);
});

Deno.test("listener plan: an identical config changes nothing", () => {
  const c = config(`[[server]]\nlisten = ["127.0.0.1:2001", "127.0.0.1:2002"]\nprotocol = "imap"\n`);
  const plan = planListeners(bound(c), c.servers);
  assert.equal(plan.keep.length, 2);
  assert.deepEqual([plan.add, plan.remove, plan.warnings], [[], [], []]);
});
