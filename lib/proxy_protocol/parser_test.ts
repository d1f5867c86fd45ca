import assert from "node:assert/strict";
import { ipv6Text, parseProxyHeader, V2_SIGNATURE } from "./parser.ts";
import { crc32c, proxyV1, proxyV2 } from "./writer.ts";

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("v1 TCP4: addresses, ports and the exact header length", () => {
  const r = parseProxyHeader(enc("PROXY TCP4 192.0.2.1 198.51.100.2 56324 143\r\n* rest"));
  assert.deepEqual(r, {
    kind: "ok",
    version: 1,
    length: 45,
    addresses: { srcAddr: "192.0.2.1", srcPort: 56324, dstAddr: "198.51.100.2", dstPort: 143 },
  });
});

Deno.test("v1 TCP6 and UNKNOWN", () => {
  const r = parseProxyHeader(enc("PROXY TCP6 2001:db8::1 ::1 1 2\r\n"));
  assert.equal(r.kind, "ok");
  assert.deepEqual(r.kind === "ok" && r.addresses, {
    srcAddr: "2001:db8::1",
    srcPort: 1,
    dstAddr: "::1",
    dstPort: 2,
  });
  const u = parseProxyHeader(enc("PROXY UNKNOWN whatever\r\nA1 NOOP\r\n"));
  assert.deepEqual(u, { kind: "ok", version: 1, length: 24 });
});

Deno.test("v1 incomplete headers wait for more bytes", () => {
  for (const part of ["P", "PROXY", "PROXY TCP4 1.2.3.4", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r"]) {
    assert.deepEqual(parseProxyHeader(enc(part)), { kind: "more" }, part);
  }
});

Deno.test("v1 broken headers are invalid (nginx's rules)", () => {
  for (
    const bad of [
      "GET / HTTP/1.0\r\n",
      "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n",
      "PROXY TCP4 1.2.3.4x 5.6.7.8 1 2\r\n",
      "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n",
      "PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n",
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n",
      "PROXY UNKNOWN\n",
      `PROXY TCP4 ${"1".repeat(120)}`,
    ]
  ) {
    const r = parseProxyHeader(enc(bad));
    assert.equal(r.kind, "invalid", bad);
  }
  // Data that is not a header is summarised, never echoed (it may be `LOGIN user password`);
  // a broken v1 header is shown up to its line end.
  const r = parseProxyHeader(enc("a1 LOGIN alice secret\r\n"));
  assert.equal(
    r.kind === "invalid" && r.text,
    "23 bytes of non-PROXY data, not logged: they may carry credentials",
  );
  const v1 = parseProxyHeader(enc("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\nmore"));
  assert.equal(v1.kind === "invalid" && v1.text, "PROXY TCP5 1.2.3.4 5.6.7.8 1 2");
});

Deno.test("v2: IPv4, IPv6, LOCAL, TLVs kept, split input waits", () => {
  const v4 = proxyV2({ srcAddr: "203.0.113.7", srcPort: 40000, dstAddr: "127.0.0.1", dstPort: 993 });
  assert.equal(v4.length, 28);
  const tail = new Uint8Array([...v4, 0x41]);
  assert.deepEqual(parseProxyHeader(tail), {
    kind: "ok",
    version: 2,
    length: 28,
    addresses: { srcAddr: "203.0.113.7", srcPort: 40000, dstAddr: "127.0.0.1", dstPort: 993 },
  });
  for (let n = 1; n < 28; n++) {
    assert.deepEqual(parseProxyHeader(v4.subarray(0, n)), { kind: "more" }, `${n}`);
  }

  const v6 = proxyV2({ srcAddr: "2001:db8::7", srcPort: 1, dstAddr: "127.0.0.1", dstPort: 2 });
  const r6 = parseProxyHeader(v6);
  assert.equal(r6.kind, "ok");
  assert.deepEqual(r6.kind === "ok" && r6.addresses, {
    srcAddr: "2001:db8::7",
    srcPort: 1,
    dstAddr: "::ffff:127.0.0.1",
    dstPort: 2,
  });

  const local = proxyV2({ srcAddr: null, srcPort: 0, dstAddr: "127.0.0.1", dstPort: 143 });
  assert.equal(local[12], 0x20);
  assert.deepEqual(parseProxyHeader(local), { kind: "ok", version: 2, length: 16 });

  const withTls = proxyV2(
    { srcAddr: "192.0.2.9", srcPort: 5, dstAddr: "192.0.2.1", dstPort: 993 },
    { version: "TLSv1.3", cipher: "TLS_AES_128_GCM_SHA256", authority: "mail.example", alpn: "imap" },
  );
  const rt = parseProxyHeader(withTls);
  assert.equal(rt.kind, "ok");
  const tlvs = rt.kind === "ok" ? rt.tlvs! : new Uint8Array();
  // ALPN, AUTHORITY, SSL, then CRC32C last.
  assert.deepEqual([tlvs[0], tlvs[3 + 4]], [0x01, 0x02]);
  assert.equal(tlvs[tlvs.length - 7], 0x03);
});

Deno.test("v2 CRC32C covers the header with the checksum zeroed", () => {
  assert.equal(crc32c(enc("123456789")), 0xe3069283); // the standard check value
  const h = proxyV2(
    { srcAddr: "192.0.2.9", srcPort: 5, dstAddr: "192.0.2.1", dstPort: 993 },
    { version: "TLSv1.2", cipher: "ECDHE-RSA-AES128-GCM-SHA256" },
  );
  const sum =
    ((h[h.length - 4] << 24) | (h[h.length - 3] << 16) | (h[h.length - 2] << 8) | h[h.length - 1]) >>> 0;
  const zeroed = h.slice();
  zeroed.fill(0, h.length - 4);
  assert.equal(sum, crc32c(zeroed));
});

Deno.test("v2 bad version and oversized headers are invalid", () => {
  const h = proxyV2({ srcAddr: "192.0.2.9", srcPort: 5, dstAddr: "192.0.2.1", dstPort: 993 });
  const v3 = h.slice();
  v3[12] = 0x31;
  assert.equal(parseProxyHeader(v3).kind, "invalid");
  const big = new Uint8Array(16);
  big.set(V2_SIGNATURE);
  big[12] = 0x21;
  big[13] = 0x11;
  big[14] = 0x10; // 4096 + 16 > limit
  assert.equal(parseProxyHeader(big).kind, "invalid");
  const short = h.slice(0, 16);
  short[15] = 4; // an IPv4 block needs 12 bytes
  assert.equal(parseProxyHeader(new Uint8Array([...short, 1, 2, 3, 4])).kind, "invalid");
});

Deno.test("v1 writer: TCP4, TCP6, UNKNOWN for mixed or non-IP", () => {
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  assert.equal(
    text(proxyV1({ srcAddr: "192.0.2.1", srcPort: 1, dstAddr: "192.0.2.2", dstPort: 143 })),
    "PROXY TCP4 192.0.2.1 192.0.2.2 1 143\r\n",
  );
  assert.equal(
    text(proxyV1({ srcAddr: "::1", srcPort: 1, dstAddr: "::1", dstPort: 2 })),
    "PROXY TCP6 ::1 ::1 1 2\r\n",
  );
  assert.equal(text(proxyV1({ srcAddr: null, srcPort: 0, dstAddr: "::1", dstPort: 2 })), "PROXY UNKNOWN\r\n");
});

Deno.test("IPv6 text is RFC 5952", () => {
  const b = new Uint8Array(16);
  b[0] = 0x20;
  b[1] = 0x01;
  b[2] = 0x0d;
  b[3] = 0xb8;
  b[15] = 1;
  assert.equal(ipv6Text(b), "2001:db8::1");
  assert.equal(ipv6Text(new Uint8Array(16)), "::");
});
