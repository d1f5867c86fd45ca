import assert from "node:assert/strict";
import { clientAddress, type DnsAnswer, type DnsQuery, findClientHost, reverseName } from "./client_host.ts";
import type { DnsRecord } from "./dns_message.ts";

const ptr = (name: string, target: string): DnsRecord => ({ type: "PTR", name, ttl: 1, target });
const a = (name: string, ...ip: number[]): DnsRecord => ({
  type: "A",
  name,
  ttl: 1,
  address: Uint8Array.from(ip),
});
const answer = (...records: DnsRecord[]): DnsAnswer => ({ kind: "answer", rcode: 0, records });
const rcode = (code: number): DnsAnswer => ({ kind: "answer", rcode: code, records: [] });
const REV = "3.0.0.127.in-addr.arpa";

/** A query function answering from a table keyed "NAME TYPE"; records what was asked. */
function table(entries: Record<string, DnsAnswer>): DnsQuery & { asked: string[] } {
  const asked: string[] = [];
  const fn = (name: string, type: number) => {
    const key = `${name} ${type}`;
    asked.push(key);
    return Promise.resolve(entries[key] ?? { kind: "failure", reason: "not in table" });
  };
  return Object.assign(fn, { asked });
}

Deno.test("client host: PTR then forward confirmation gives the name as returned", async () => {
  const q = table({
    [`${REV} 12`]: answer(ptr(REV, "Client3.Test")),
    "Client3.Test 1": answer(a("client3.test", 127, 0, 0, 3)),
  });
  assert.deepEqual(await findClientHost("127.0.0.3", q), { host: "Client3.Test" });
  assert.deepEqual(q.asked, [`${REV} 12`, "Client3.Test 1"]);
});

Deno.test("client host: NXDOMAIN and empty answers are [UNAVAILABLE], other failures [TEMPUNAVAIL]", async () => {
  const host = async (entries: Record<string, DnsAnswer>) =>
    (await findClientHost("127.0.0.3", table(entries))).host;
  assert.equal(await host({ [`${REV} 12`]: rcode(3) }), "[UNAVAILABLE]");
  assert.equal(await host({ [`${REV} 12`]: answer() }), "[UNAVAILABLE]");
  assert.equal(await host({ [`${REV} 12`]: rcode(2) }), "[TEMPUNAVAIL]");
  assert.equal(await host({}), "[TEMPUNAVAIL]", "timeout");
  const named = { [`${REV} 12`]: answer(ptr(REV, "c.test")) };
  assert.equal(await host({ ...named, "c.test 1": rcode(3) }), "[UNAVAILABLE]");
  assert.equal(await host({ ...named, "c.test 1": answer() }), "[UNAVAILABLE]");
  assert.equal(await host({ ...named, "c.test 1": rcode(2) }), "[TEMPUNAVAIL]");
  assert.equal(await host(named), "[TEMPUNAVAIL]", "forward timeout");
  assert.equal(
    await host({ ...named, "c.test 1": answer(a("c.test", 10, 0, 0, 1)) }),
    "[UNAVAILABLE]",
    "mismatch",
  );
});

Deno.test("client host: names with anything but letters, digits, '-' and '.' are refused (CVE-2026-28753)", async () => {
  for (
    const bad of ["evil.test\r\nX-Injected: 1", "a b.test", "x\\.y.test", "", "a_b.test", "caf\u00e9.test"]
  ) {
    const q = table({ [`${REV} 12`]: answer(ptr(REV, bad)) });
    const result = await findClientHost("127.0.0.3", q);
    assert.equal(result.host, "[TEMPUNAVAIL]", JSON.stringify(bad));
    assert.equal(q.asked.length, 1, "no forward lookup of a bad name");
  }
});

Deno.test("client host: CNAME chains inside one answer are followed; a lone CNAME is a failure", async () => {
  const delegated = "3.0/25.0.0.127.in-addr.arpa";
  const chained = table({
    [`${REV} 12`]: answer({ type: "CNAME", name: REV, ttl: 1, target: delegated }, ptr(delegated, "c.test")),
    "c.test 1": answer(
      { type: "CNAME", name: "c.test", ttl: 1, target: "real.test" },
      a("REAL.test", 127, 0, 0, 3),
    ),
  });
  assert.equal((await findClientHost("127.0.0.3", chained)).host, "c.test");
  const lone = table({ [`${REV} 12`]: answer({ type: "CNAME", name: REV, ttl: 1, target: delegated }) });
  assert.equal((await findClientHost("127.0.0.3", lone)).host, "[TEMPUNAVAIL]");
  const wrongOwner = table({ [`${REV} 12`]: answer(ptr("other.in-addr.arpa", "c.test")) });
  assert.equal((await findClientHost("127.0.0.3", wrongOwner)).host, "[TEMPUNAVAIL]");
});

Deno.test("client host: IPv6 asks AAAA under ip6.arpa; mapped IPv4 is looked up as IPv4; unix is [TEMPUNAVAIL]", async () => {
  const v6 = clientAddress("2001:db8::7")!;
  const rev6 = reverseName(v6);
  assert.equal(rev6, "7.0.0.0." + "0.0.0.0.".repeat(5) + "8.b.d.0.1.0.0.2.ip6.arpa");
  const q = table({
    [`${rev6} 12`]: answer(ptr(rev6, "v6.test")),
    "v6.test 28": answer({ type: "AAAA", name: "v6.test", ttl: 1, address: v6 }),
  });
  assert.deepEqual(await findClientHost("2001:db8::7", q), { host: "v6.test" });
  assert.equal(reverseName(clientAddress("::ffff:127.0.0.3")!), REV);
  const none = table({});
  assert.equal((await findClientHost("unix:", none)).host, "[TEMPUNAVAIL]");
  assert.deepEqual(none.asked, []);
});
