import assert from "node:assert/strict";
import { type AccessAction, type AccessRule, checkAccess, ipToBytes, parseAccessRule } from "./rules.ts";

function rules(...list: [AccessAction, string][]): AccessRule[] {
  return list.map(([action, text]) => {
    const parsed = parseAccessRule(action, text);
    if (!parsed.ok) throw new Error(parsed.error);
    return parsed.rule;
  });
}

const tcp = (ip: string) => ({ transport: "tcp" as const, ip });

Deno.test("access: first matching rule wins, in order", () => {
  const list = rules(["deny", "10.1.2.3"], ["allow", "10.0.0.0/8"], ["deny", "all"]);
  assert.equal(checkAccess(list, tcp("10.1.2.3")).allowed, false);
  assert.equal(checkAccess(list, tcp("10.200.0.1")).allowed, true);
  assert.equal(checkAccess(list, tcp("192.168.1.1")).allowed, false);
  assert.equal(checkAccess(list, tcp("192.168.1.1")).rule?.raw, "all");
  // The same rules in another order decide otherwise.
  const swapped = rules(["allow", "10.0.0.0/8"], ["deny", "10.1.2.3"], ["deny", "all"]);
  assert.equal(checkAccess(swapped, tcp("10.1.2.3")).allowed, true);
});

Deno.test("access: no rule or no match allows", () => {
  assert.equal(checkAccess([], tcp("1.2.3.4")).allowed, true);
  const list = rules(["deny", "10.0.0.0/8"]);
  assert.deepEqual(checkAccess(list, tcp("11.0.0.1")), { allowed: true, rule: null });
});

Deno.test("access: IPv6 CIDRs, v4-mapped clients match IPv4 rules", () => {
  const list = rules(["allow", "2001:db8::/32"], ["allow", "127.0.0.0/8"], ["deny", "all"]);
  assert.equal(checkAccess(list, tcp("2001:db8:1::5")).allowed, true);
  assert.equal(checkAccess(list, tcp("2001:db9::1")).allowed, false);
  assert.equal(checkAccess(list, tcp("::ffff:127.0.0.1")).allowed, true);
  assert.equal(checkAccess(list, tcp("::1")).allowed, false);
  // An IPv4 rule never matches a real IPv6 client and vice versa.
  assert.equal(checkAccess(rules(["deny", "0.0.0.0/0"]), tcp("::1")).allowed, true);
  assert.equal(checkAccess(rules(["deny", "::/0"]), tcp("1.2.3.4")).allowed, true);
});

Deno.test("access: unix: and all for UNIX-socket clients", () => {
  const unix = { transport: "unix" as const };
  assert.equal(checkAccess(rules(["deny", "unix:"]), unix).allowed, false);
  assert.equal(checkAccess(rules(["deny", "unix:"]), tcp("1.2.3.4")).allowed, true);
  assert.equal(checkAccess(rules(["deny", "127.0.0.1"], ["deny", "all"]), unix).allowed, false);
  assert.equal(checkAccess(rules(["allow", "unix:"], ["deny", "all"]), unix).allowed, true);
});

Deno.test("access: parsing, host-bit warning, bad input", () => {
  const warned = parseAccessRule("allow", "10.1.2.3/8");
  assert.ok(warned.ok && warned.warning?.includes("meaningless"));
  assert.ok(warned.ok && checkAccess([warned.rule], tcp("10.9.9.9")).rule !== null);
  for (const bad of ["", "10.0.0.0/33", "::/129", "host.example", "1.2.3", "10.0.0.0/x", "unix"]) {
    assert.equal(parseAccessRule("deny", bad).ok, false, bad);
  }
  assert.ok(parseAccessRule("deny", "0.0.0.0/0").ok);
  assert.ok(parseAccessRule("deny", "[::1]").ok);
  assert.deepEqual(ipToBytes("::ffff:1.2.3.4")?.slice(10), [0xff, 0xff, 1, 2, 3, 4]);
  assert.equal(ipToBytes("fe80::1%eth0")?.length, 16);
  assert.equal(ipToBytes("1:2:3:4:5:6:7:8:9"), null);
});
