/**
 * Property tests of the PROXY protocol v1/v2 parser on hostile headers: never
 * throws, never waits for more than nginx's 4 KiB, reports lengths inside the
 * data, valid addresses and ports, and every header the writer makes parses back.
 */

import assert from "node:assert/strict";
import { isIP } from "node:net";
import fc from "fast-check";
import { parseProxyHeader, PROXY_HEADER_LIMIT, V2_SIGNATURE } from "../../lib/proxy_protocol/parser.ts";
import { proxyV1, proxyV2 } from "../../lib/proxy_protocol/writer.ts";
import { bin, bytesOf, check } from "./fuzz_support.ts";

const ipv4 = fc.ipV4();
const ipv6 = fc.ipV6();
const port = fc.integer({ min: 0, max: 65535 });

/** v1 lines: valid, or with fields swapped for junk. */
const v1 = fc.tuple(
  fc.constantFrom("TCP4", "TCP6", "UNKNOWN", "UDP4", "tcp4", ""),
  fc.oneof(ipv4, ipv6, fc.constantFrom("1.2.3", "::g", "999.1.1.1", "")),
  fc.oneof(ipv4, ipv6),
  fc.oneof(port.map(String), fc.constantFrom("65536", "-1", "01", "")),
  port.map(String),
  fc.constantFrom("\r\n", "\n", "\r", "", " \r\n"),
).map(([fam, a, b, p, q, end]) => bytesOf(`PROXY ${fam} ${a} ${b} ${p} ${q}${end}`));

/** v2 headers: signature, version/command, family, a length and a body that may disagree with it. */
const v2 = fc.tuple(
  fc.constantFrom(0x21, 0x20, 0x22, 0x11),
  fc.constantFrom(0x11, 0x21, 0x12, 0x31, 0x00, 0xff),
  fc.nat({ max: 5000 }),
  fc.uint8Array({ maxLength: 300 }),
).map(([verCmd, fam, len, body]) => {
  const head = new Uint8Array(16);
  head.set(V2_SIGNATURE, 0);
  head[12] = verCmd;
  head[13] = fam;
  head[14] = len >> 8;
  head[15] = len & 0xff;
  const out = new Uint8Array(16 + body.length);
  out.set(head, 0);
  out.set(body, 16);
  return out;
});

const input = fc.tuple(
  fc.oneof(
    v1,
    v2,
    fc.uint8Array({ maxLength: 200 }),
    fc.nat({ max: 6000 }).map((n) => bytesOf("PROXY " + "1".repeat(n))),
  ),
  fc.uint8Array({ maxLength: 40 }),
).map(([header, after]) => {
  const out = new Uint8Array(header.length + after.length);
  out.set(header, 0);
  out.set(after, header.length);
  return out;
});

Deno.test("fuzz: PROXY protocol parser on hostile headers", () =>
  check(
    "proxy protocol parser",
    fc.property(input, (buf) => {
      const r = parseProxyHeader(buf);
      switch (r.kind) {
        case "more":
          assert.ok(buf.length < PROXY_HEADER_LIMIT, `still "more" after ${buf.length} bytes`);
          break;
        case "invalid":
          assert.equal(typeof r.reason, "string");
          break;
        case "ok": {
          assert.ok(
            r.length > 0 && r.length <= buf.length && r.length <= PROXY_HEADER_LIMIT,
            `length ${r.length}`,
          );
          const a = r.addresses;
          if (a) {
            // nginx accepts any hex digits, dots and colons here (realip then adopts only a
            // parseable IP, lib/proxy_protocol/accept.ts); nothing else may reach logs or headers.
            for (const addr of [a.srcAddr, a.dstAddr]) {
              assert.match(addr, /^[0-9A-Fa-f.:]*$/, JSON.stringify(a));
            }
            for (const p of [a.srcPort, a.dstPort]) {
              assert.ok(Number.isInteger(p) && p >= 0 && p <= 65535);
            }
          }
          // The header is complete in its own bytes: what follows it never matters.
          assert.deepEqual(parseProxyHeader(buf.slice(0, r.length)), { ...r });
          break;
        }
      }
    }),
  ));

Deno.test("fuzz: PROXY headers mailproxy writes parse back to the same endpoints", () =>
  check(
    "proxy protocol round trip",
    fc.property(
      fc.oneof(fc.tuple(ipv4, ipv4), fc.tuple(ipv6, ipv6)),
      port,
      port,
      fc.boolean(),
      ([src, dst], sp, dp, v2) => {
        const ep = { srcAddr: src, srcPort: sp, dstAddr: dst, dstPort: dp };
        const bytes = v2 ? proxyV2(ep) : proxyV1(ep);
        const r = parseProxyHeader(bytes);
        assert.equal(r.kind, "ok", bin(bytes));
        if (r.kind !== "ok") return;
        assert.equal(r.length, bytes.length);
        assert.equal(r.addresses?.srcPort, sp);
        assert.equal(r.addresses?.dstPort, dp);
        assert.equal(isIP(r.addresses!.srcAddr), isIP(src));
      },
    ),
  ));
