import assert from "node:assert/strict";
import { admitClient } from "./admission.ts";
import { ConnectionLimits } from "./limits.ts";
import { parseAccessRule } from "./rules.ts";

Deno.test("limits: overall and per-IP limits, release frees the slot once", () => {
  const values = { maxConnections: 3, maxConnectionsPerIp: 2 };
  const limits = new ConnectionLimits(() => values);
  const a1 = limits.admit("1.1.1.1");
  const a2 = limits.admit("1.1.1.1");
  assert.ok(a1.ok && a2.ok);
  assert.deepEqual(limits.admit("1.1.1.1"), { ok: false, reason: "max_connections_per_ip" });
  const b1 = limits.admit("2.2.2.2");
  assert.ok(b1.ok);
  assert.deepEqual(limits.admit("3.3.3.3"), { ok: false, reason: "max_connections" });
  a1.release();
  a1.release();
  assert.equal(limits.total, 2);
  assert.equal(limits.count("1.1.1.1"), 1);
  assert.ok(limits.admit("3.3.3.3").ok);
  // Limits are read per admission: a reload applies at once; 0 = unlimited.
  values.maxConnections = 0;
  values.maxConnectionsPerIp = 0;
  for (let i = 0; i < 100; i++) assert.ok(limits.admit("4.4.4.4").ok);
});

Deno.test("admission: denied clients are never counted; v4-mapped counts as IPv4", () => {
  const limits = new ConnectionLimits(() => ({ maxConnections: 0, maxConnectionsPerIp: 1 }));
  const deny = parseAccessRule("deny", "10.0.0.0/8");
  assert.ok(deny.ok);
  const refused = admitClient([deny.rule], { transport: "tcp", hostname: "10.0.0.1", port: 1 }, limits);
  assert.equal(refused.ok, false);
  assert.equal(!refused.ok && refused.reason, "access");
  assert.equal(limits.total, 0);
  const first = admitClient([deny.rule], { transport: "tcp", hostname: "127.0.0.1", port: 1 }, limits);
  assert.ok(first.ok);
  const second = admitClient([], { transport: "tcp", hostname: "::ffff:127.0.0.1", port: 2 }, limits);
  assert.deepEqual(second, { ok: false, reason: "max_connections_per_ip" });
  first.release();
  assert.equal(limits.total, 0);
});
