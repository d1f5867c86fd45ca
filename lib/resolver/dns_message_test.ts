import assert from "node:assert/strict";
import { decodeResponse, type DnsResponse, DnsType, encodeQuery, sameName } from "./dns_message.ts";

const hex = (s: string) => Uint8Array.from(s.replace(/\s+/g, "").match(/../g)!.map((h) => parseInt(h, 16)));

Deno.test("dns: a PTR query is encoded as RFC 1035 says", () => {
  const q = encodeQuery(0x1234, "3.0.0.127.in-addr.arpa", DnsType.PTR)!;
  assert.deepEqual(
    q,
    hex(
      "1234 0100 0001 0000 0000 0000 01 33 01 30 01 30 03 313237 07 696e2d61646472 04 61727061 00 000c 0001",
    ),
  );
  assert.deepEqual(encodeQuery(1, "a.example.", DnsType.A), encodeQuery(1, "a.example", DnsType.A));
});

Deno.test("dns: names that cannot be queried are refused", () => {
  assert.equal(encodeQuery(1, "", DnsType.A), null);
  assert.equal(encodeQuery(1, "a..b", DnsType.A), null);
  assert.equal(encodeQuery(1, `${"x".repeat(64)}.example`, DnsType.A), null);
  assert.equal(encodeQuery(1, Array(130).fill("ab").join("."), DnsType.A), null);
  assert.equal(encodeQuery(1, "sp ace.example", DnsType.A), null);
});

/** A response to `name`/`type` with the given answer records (raw bytes after the question). */
function response(
  rcode: number,
  flags: number,
  question: Uint8Array,
  answers: number[],
  count: number,
): Uint8Array {
  return Uint8Array.from([
    0xab,
    0xcd,
    0x81 | (flags >> 8),
    0x80 | rcode | (flags & 0xff),
    0,
    1,
    0,
    count,
    0,
    0,
    0,
    0,
    ...question,
    ...answers,
  ]);
}

const QNAME = encodeQuery(0, "host.example", DnsType.A)!.subarray(12); // name + type + class

Deno.test("dns: A and AAAA answers with compression pointers to the question", () => {
  const a = [0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 3];
  const aaaa = [0xc0, 12, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16, ...Array(15).fill(0), 1];
  const r = decodeResponse(response(0, 0, QNAME, [...a, ...aaaa], 2)) as DnsResponse;
  assert.equal(r.id, 0xabcd);
  assert.equal(r.rcode, 0);
  assert.deepEqual(r.question, { name: "host.example", type: DnsType.A });
  assert.deepEqual(r.answers, [
    { type: "A", name: "host.example", ttl: 60, address: Uint8Array.from([127, 0, 0, 3]) },
    { type: "AAAA", name: "host.example", ttl: 60, address: Uint8Array.from([...Array(15).fill(0), 1]) },
  ]);
});

Deno.test("dns: PTR and CNAME targets keep their case; a dot inside a label is escaped", () => {
  // PTR target "Mail.Example" then CNAME target "x\.y" + pointer to "example" (offset of "example" label in QNAME).
  const target = [4, ...new TextEncoder().encode("Mail"), 7, ...new TextEncoder().encode("Example"), 0];
  const ptr = [0xc0, 12, 0, 12, 0, 1, 0, 0, 0, 9, 0, target.length, ...target];
  const cname = [0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 9, 0, 5, 3, 0x78, 0x2e, 0x79, 0];
  const r = decodeResponse(response(0, 0, QNAME, [...ptr, ...cname], 2)) as DnsResponse;
  assert.deepEqual(r.answers.map((a) => "target" in a ? a.target : ""), ["Mail.Example", "x\\.y"]);
  assert.ok(sameName("MAIL.example", "mail.EXAMPLE"));
});

Deno.test("dns: rcode, TC flag, and other record types are reported", () => {
  const nx = decodeResponse(response(3, 0, QNAME, [], 0)) as DnsResponse;
  assert.equal(nx.rcode, 3);
  const tc = decodeResponse(response(0, 0x0200, QNAME, [], 0)) as DnsResponse;
  assert.equal(tc.truncated, true);
  const mx = [0xc0, 12, 0, 15, 0, 1, 0, 0, 0, 1, 0, 3, 0, 1, 0];
  assert.deepEqual((decodeResponse(response(0, 0, QNAME, mx, 1)) as DnsResponse).answers, [
    { type: "other", name: "host.example", ttl: 1, code: 15 },
  ]);
});

Deno.test("dns: malformed responses are errors, never exceptions", () => {
  const loop = [0xc0, 0x1e, 0, 12, 0, 1, 0, 0, 0, 1, 0, 2, 0xc0, 0x2a];
  const cases: Uint8Array[] = [
    new Uint8Array(5),
    hex("abcd 0100 0001 0000 0000 0000"), // a query, not a response
    response(0, 0, QNAME, [0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 3, 1, 2, 3], 1), // A of 3 bytes
    response(0, 0, QNAME, [0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 1], 1), // truncated data
    response(0, 0, QNAME, loop, 1),
    response(0, 0, QNAME, [0x80, 0], 1), // reserved label type
    response(0, 0, QNAME, [], 1), // announced record missing
  ];
  for (const msg of cases) assert.ok("error" in decodeResponse(msg), String(msg));
  let seed = 3;
  for (let i = 0; i < 2000; i++) {
    const bytes = Uint8Array.from({ length: 12 + (i % 80) }, () => (seed = (seed * 69069 + 1) >>> 0) >>> 24);
    bytes[2] |= 0x80;
    decodeResponse(bytes);
  }
});
