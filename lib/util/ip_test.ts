import assert from "node:assert/strict";
import { ipBytes, unmapIPv4 } from "./ip.ts";

Deno.test("ipBytes: IPv4, IPv6 forms, zone ids, brackets; junk is null", () => {
  assert.deepEqual(ipBytes("1.2.3.4"), [1, 2, 3, 4]);
  assert.deepEqual(ipBytes("::1"), [...Array(15).fill(0), 1]);
  assert.deepEqual(ipBytes("2001:db8::ff00:42"), [
    0x20,
    1,
    0x0d,
    0xb8,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0xff,
    0,
    0,
    0x42,
  ]);
  assert.deepEqual(ipBytes("::ffff:1.2.3.4")?.slice(10), [0xff, 0xff, 1, 2, 3, 4]);
  assert.deepEqual(ipBytes("[fe80::1%eth0]"), ipBytes("fe80::1"));
  assert.equal(ipBytes("1:2:3:4:5:6:7:8:9"), null);
  assert.equal(ipBytes("example.com"), null);
  assert.equal(ipBytes("1.2.3.256"), null);
});

Deno.test("unmapIPv4: only IPv4-mapped addresses change", () => {
  assert.equal(unmapIPv4("::FFFF:10.0.0.1"), "10.0.0.1");
  assert.equal(unmapIPv4("::1"), "::1");
  assert.equal(unmapIPv4("10.0.0.1"), "10.0.0.1");
});
