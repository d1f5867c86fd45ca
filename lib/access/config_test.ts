import assert from "node:assert/strict";
import { loadErrors, loadOk, MINIMAL } from "../config/testing.ts";
import { checkAccess } from "./rules.ts";

Deno.test("config: access rules keep their order; servers inherit or replace them", () => {
  const config = loadOk(
    `access = [{ allow = "10.0.0.0/8" }, "deny 10.1.0.0/16", { deny = ["all"] }]
max_connections = 100
max_connections_per_ip = 5
${MINIMAL}
[[server]]
listen = "127.0.0.1:1144"
protocol = "imap"
access = [{ deny = "unix:" }]
`,
  );
  const [first, second] = config.servers;
  assert.deepEqual(first.access.map((r) => `${r.action} ${r.raw}`), [
    "allow 10.0.0.0/8",
    "deny 10.1.0.0/16",
    "deny all",
  ]);
  // First match wins: 10.1.x.x is allowed by the earlier /8 rule.
  assert.equal(checkAccess(first.access, { transport: "tcp", ip: "10.1.2.3" }).allowed, true);
  assert.equal(checkAccess(first.access, { transport: "tcp", ip: "192.0.2.1" }).allowed, false);
  assert.deepEqual(second.access.map((r) => r.raw), ["unix:"]);
  assert.equal(config.max_connections, 100);
  assert.equal(config.max_connections_per_ip, 5);
});

Deno.test("config: access and limit defaults", () => {
  const config = loadOk(MINIMAL);
  assert.deepEqual(config.servers[0].access, []);
  assert.equal(config.max_connections, 0);
  assert.equal(config.max_connections_per_ip, 0);
});

Deno.test("config: bad access entries are reported with their position", () => {
  const errors = loadErrors(
    `access = [{ allow = "10.0.0.0/33" }, { permit = "all" }, "allow", { allow = "1.2.3.4", deny = "all" }, 5]
max_connections = -1
${MINIMAL}`,
  ).join("\n");
  assert.match(errors, /invalid CIDR "10\.0\.0\.0\/33"/);
  assert.match(errors, /one key/);
  assert.match(errors, /"allow ADDR" or "deny ADDR"/);
  assert.match(errors, /max_connections/);
  assert.match(loadErrors(`access = { deny = "all" }\n${MINIMAL}`).join("\n"), /expected an array/);
});
