import assert from "node:assert/strict";
import { buildRealIpTrust, ipToBytes, isTrusted } from "./trust.ts";

const tcp = (hostname: string) => ({ transport: "tcp" as const, hostname, port: 1 });

Deno.test("set_real_ip_from: addresses, CIDRs, IPv4-mapped peers, unix:", async () => {
  const trust = await buildRealIpTrust(["10.0.0.0/8", "192.0.2.7", "2001:db8::/32", "unix:"]);
  assert.equal(isTrusted(trust, tcp("10.200.3.4")), true);
  assert.equal(isTrusted(trust, tcp("::ffff:10.1.1.1")), true);
  assert.equal(isTrusted(trust, tcp("11.0.0.1")), false);
  assert.equal(isTrusted(trust, tcp("192.0.2.7")), true);
  assert.equal(isTrusted(trust, tcp("192.0.2.8")), false);
  assert.equal(isTrusted(trust, tcp("2001:db8:1::5")), true);
  assert.equal(isTrusted(trust, tcp("2001:db9::5")), false);
  assert.equal(isTrusted(trust, { transport: "unix", path: "" }), true);
  const none = await buildRealIpTrust(["127.0.0.1"]);
  assert.equal(isTrusted(none, { transport: "unix", path: "" }), false);
});

Deno.test("set_real_ip_from: host names resolve (localhost), unknown ones are an error", async () => {
  const trust = await buildRealIpTrust(["localhost"]);
  assert.equal(isTrusted(trust, tcp("127.0.0.1")), true);
  await assert.rejects(buildRealIpTrust(["no-such-host.invalid"]), /host not found/);
});

Deno.test("ipToBytes", () => {
  assert.deepEqual(ipToBytes("1.2.3.4"), [1, 2, 3, 4]);
  assert.equal(ipToBytes("::ffff:1.2.3.4")?.length, 4);
  assert.equal(ipToBytes("::1")?.length, 16);
  assert.equal(ipToBytes("nope"), null);
});
