import assert from "node:assert/strict";

const assertEquals = (a: unknown, b: unknown, msg?: string) => assert.deepEqual(a, b, msg);
import { LoginLimits, type LoginLimitsConfig, networkOf } from "./login_limits.ts";

const MIN = 60_000;

function limits(over: Partial<LoginLimitsConfig> = {}): LoginLimits {
  const cfg: LoginLimitsConfig = {
    ip: { failures: 3, window: 10 * MIN, block: 15 * MIN },
    user: { failures: 3, window: 60 * MIN, block: 15 * MIN },
    delay: [2000, 4000, 8000],
    exempt: [],
    known_ip: 30 * 24 * 60 * MIN,
    ...over,
  };
  return new LoginLimits(() => cfg);
}

Deno.test("networkOf: IPv4 as is, IPv4-mapped unmapped, IPv6 by /64", () => {
  assertEquals(networkOf("192.0.2.7"), "192.0.2.7");
  assertEquals(networkOf("::ffff:192.0.2.7"), "192.0.2.7");
  assertEquals(networkOf("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
  assertEquals(networkOf("2001:db8:1:2::9"), "2001:db8:1:2::/64");
});

Deno.test("delays grow per failure of a network, then the network is blocked until the block ends", () => {
  const l = limits({ user: null });
  assertEquals(l.failure("192.0.2.1", "a", "p1", 0), 2000);
  assertEquals(l.failure("192.0.2.1", "b", "p2", 1), 4000);
  assertEquals(l.check("192.0.2.1", "c", 2).blocked, false);
  assertEquals(l.failure("192.0.2.1", "c", "p3", 2), 8000);
  const v = l.check("192.0.2.1", "anyone", 3);
  assertEquals(v.blocked && v.by, "ip");
  assertEquals(l.check("192.0.2.2", "anyone", 3).blocked, false);
  assertEquals(l.check("192.0.2.1", "anyone", 2 + 15 * MIN + 1).blocked, false);
});

Deno.test("failures outside the window do not add up", () => {
  const l = limits({ user: null });
  l.failure("192.0.2.1", "a", "x", 0);
  l.failure("192.0.2.1", "a", "y", 1);
  assertEquals(l.failure("192.0.2.1", "a", "z", 11 * MIN), 2000);
  assertEquals(l.check("192.0.2.1", "a", 11 * MIN).blocked, false);
});

Deno.test("an IPv6 /64 is one counter", () => {
  const l = limits({ user: null });
  l.failure("2001:db8::1", "a", "x", 0);
  l.failure("2001:db8::2", "a", "x", 0);
  l.failure("2001:db8::ffff:3", "a", "x", 0);
  assertEquals(l.check("2001:db8::4", "a", 1).blocked, true);
  assertEquals(l.check("2001:db8:0:1::4", "a", 1).blocked, false);
});

Deno.test("the same stale password repeated does not block the user", () => {
  const l = limits({ ip: null });
  for (let i = 0; i < 20; i++) l.failure(`198.51.100.${i}`, "owner", "stale", i);
  assertEquals(l.check("203.0.113.9", "owner", 100).blocked, false);
  assertEquals(l.list({ user: "owner" }, 100)[0].failures, 1);
});

Deno.test("distinct wrong passwords block the user, except for a known network and exempt ones", () => {
  const l = limits({ ip: null, exempt: ["10.0.0.0/8"] });
  l.success("203.0.113.9", "owner", 0);
  for (let i = 0; i < 3; i++) l.failure("198.51.100.1", "owner", `guess${i}`, 1 + i);
  const v = l.check("198.51.100.2", "owner", 10);
  assertEquals(v.blocked && v.by, "user");
  assertEquals(l.check("203.0.113.9", "owner", 10).blocked, false, "known network");
  assertEquals(l.check("10.1.2.3", "owner", 10).blocked, false, "exempt network");
});

Deno.test("exempt networks are never counted nor delayed", () => {
  const l = limits({ exempt: ["10.0.0.0/8", "2001:db8::/32"] });
  for (let i = 0; i < 10; i++) assertEquals(l.failure("10.9.9.9", "u", `p${i}`, i), 0);
  assertEquals(l.failure("2001:db8::1", "u", "p", 0), 0);
  assertEquals(l.check("10.9.9.9", "u", 20).blocked, false);
  assertEquals(l.list({}, 20), []);
});

Deno.test("lifting a network or a user clears it; list shows counts only", () => {
  const l = limits();
  for (let i = 0; i < 3; i++) l.failure("192.0.2.1", "u", `p${i}`, i);
  assertEquals(l.check("192.0.2.1", "u", 5).blocked, true);
  const entries = l.list({}, 5);
  assertEquals(entries.map((e) => [e.kind, e.key, e.failures]), [["ip", "192.0.2.1", 3], ["user", "u", 3]]);
  assertEquals(JSON.stringify(entries).includes("p0"), false);
  assertEquals(l.liftIp("192.0.2.1/32"), true);
  assertEquals(l.liftIp("192.0.2.1"), false);
  const v = l.check("192.0.2.1", "u", 6);
  assertEquals(v.blocked && v.by, "user");
  assertEquals(l.liftUser("u"), true);
  assertEquals(l.check("192.0.2.1", "u", 7).blocked, false);
});

Deno.test("delay [] means no delay; sweep drops expired entries", () => {
  const l = limits({ delay: [] });
  assertEquals(l.failure("192.0.2.1", "u", "p", 0), 0);
  l.sweep(2 * 60 * MIN);
  assertEquals(l.list({}, 2 * 60 * MIN), []);
});
