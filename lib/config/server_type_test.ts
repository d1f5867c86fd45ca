/**
 * `ServerConfig` is derived from the schema rows (types.ts); the loader fills a server from
 * the same rows (server.ts, `isServerKey`). These tests tie the two ends together: the
 * loader's servers have exactly the fields the rows name, and every row kind has a type.
 */

import assert from "node:assert/strict";
import { testServerConfig } from "../../tests/helpers/server_config.ts";
import { CONFIG_KEYS, isServerKey, NOT_STORED_IN_SERVER } from "./schema.ts";
import { loadOk, MINIMAL } from "./testing.ts";
import type { ServerConfig, UntypedRowKinds } from "./types.ts";

const rowNames = () => ["index", "line", ...CONFIG_KEYS.filter(isServerKey).map((k) => k.name)].sort();

Deno.test("ServerConfig, Config, LogConfig: every row kind they derive from has a TypeScript type", () => {
  // Compile-time: a row of a kind without an entry in KindTypes makes this line fail to type-check.
  const everyKindTyped: [UntypedRowKinds] extends [never] ? true : false = true;
  assert.equal(everyKindTyped, true);
});

Deno.test("ServerConfig: the loader fills exactly the fields the schema rows name", () => {
  const server = loadOk(MINIMAL).servers[0];
  assert.deepEqual(Object.keys(server).sort(), rowNames());
  for (const name of NOT_STORED_IN_SERVER) assert.equal(name in server, false, name);
  // Keys recognised only to refuse them never become fields.
  for (const spec of CONFIG_KEYS.filter((k) => k.kind === "unsupported" || k.kind === "removed")) {
    assert.equal(spec.name in server, false, spec.name);
  }
});

Deno.test("ServerConfig: the test helper is the loader's server with the schema defaults", () => {
  const helper: ServerConfig = testServerConfig();
  assert.deepEqual(Object.keys(helper).sort(), rowNames());
  const loaded = loadOk(MINIMAL).servers[0];
  for (const spec of CONFIG_KEYS.filter(isServerKey)) {
    if (["auth_http", "listen", "server_name"].includes(spec.name)) continue;
    assert.deepEqual(
      helper[spec.name as keyof ServerConfig],
      loaded[spec.name as keyof ServerConfig],
      spec.name,
    );
  }
  // A copy per call: one test's changes cannot leak into the next.
  helper.imap_capabilities.push("X-CHANGED");
  assert.deepEqual(testServerConfig().imap_capabilities, ["IMAP4", "IMAP4rev1", "UIDPLUS"]);
  assert.equal(testServerConfig({ protocol: "smtp" }).protocol, "smtp");
});
