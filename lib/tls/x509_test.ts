import assert from "node:assert/strict";
import { children, type Der, DerError, parseDer, TAG } from "./der.ts";
import { rfc2253 } from "./x509.ts";

/** DER builders for hand-made Names. */
function tlv(tag: number, body: number[]): number[] {
  const len = body.length < 128 ? [body.length] : [0x81, body.length];
  return [tag, ...len, ...body];
}
const CN = [0x06, 0x03, 0x55, 0x04, 0x03];
const O = [0x06, 0x03, 0x55, 0x04, 0x0a];
const C = [0x06, 0x03, 0x55, 0x04, 0x06];
const utf8 = (s: string) => tlv(TAG.UTF8_STRING, [...new TextEncoder().encode(s)]);
const ava = (type: number[], value: number[]) => tlv(TAG.SEQUENCE, [...type, ...value]);
const rdn = (...avas: number[][]) => tlv(TAG.SET, avas.flat());
const name = (...rdns: number[][]): Der => parseDer(new Uint8Array(tlv(TAG.SEQUENCE, rdns.flat())));

Deno.test("RFC 2253: last RDN first, comma separated", () => {
  const n = name(
    rdn(ava(C, tlv(TAG.PRINTABLE_STRING, [0x58, 0x58]))),
    rdn(ava(O, utf8("Example"))),
    rdn(ava(CN, utf8("alice"))),
  );
  assert.equal(rfc2253(n), "CN=alice,O=Example,C=XX");
});

Deno.test("RFC 2253 escaping as OpenSSL does it", () => {
  assert.equal(rfc2253(name(rdn(ava(CN, utf8('a,b+c"d\\e<f>g;h'))))), 'CN=a\\,b\\+c\\"d\\\\e\\<f\\>g\\;h');
  assert.equal(rfc2253(name(rdn(ava(CN, utf8(" #lead trail "))))), "CN=\\ #lead trail\\ ");
  assert.equal(rfc2253(name(rdn(ava(CN, utf8("#x"))))), "CN=\\#x");
  assert.equal(rfc2253(name(rdn(ava(CN, utf8("é\n"))))), "CN=\\C3\\A9\\0A");
});

Deno.test("RFC 2253: multi-valued RDNs and unknown attributes", () => {
  const unknown = [0x06, 0x03, 0x2a, 0x03, 0x04]; // 1.2.3.4
  const n = name(rdn(ava(CN, utf8("a")), ava(O, utf8("b"))), rdn(ava(unknown, utf8("z"))));
  assert.equal(rfc2253(n), "1.2.3.4=#0C017A,CN=a+O=b");
});

Deno.test("DER reader refuses truncated input instead of reading past the end", () => {
  assert.throws(() => parseDer(new Uint8Array([0x30, 0x05, 0x01])));
  assert.throws(() => parseDer(new Uint8Array([0x30, 0x84, 0xff, 0xff, 0xff, 0xff])));
  assert.throws(() => children(parseDer(new Uint8Array([0x30, 0x02, 0x05, 0x05]))));
  // An attribute with a type but no value.
  assert.throws(() => rfc2253(name(rdn(tlv(TAG.SEQUENCE, CN)))), DerError);
});
