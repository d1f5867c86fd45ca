/**
 * The PROXY header mailproxy sends to a backend first (`proxy_protocol = "v1" | "v2"`,
 * spec §5.1): v1 text, or v2 binary with, when the client used TLS, the AUTHORITY
 * (SNI), ALPN and SSL TLVs (client flags, verify result, version, CN, cipher,
 * signature and key algorithms) and a trailing CRC32C TLV over the whole header, as
 * nginx 1.31 writes them.
 * "client" is the address after realip; "local" is where the client connected to.
 * @module
 */

import { isIPv4, isIPv6 } from "node:net";
import { V2_SIGNATURE } from "./parser.ts";
import { ipBytes, unmapIPv4 } from "../util/ip.ts";

/** The two endpoints; `null` addresses stand for non-IP clients (UNIX sockets). */
export interface ProxyEndpoints {
  srcAddr: string | null;
  srcPort: number;
  dstAddr: string | null;
  dstPort: number;
}

/** TLS facts for the v2 TLVs (all optional). */
export interface ProxyTlsFacts {
  /** SNI the client sent. */
  authority?: string;
  alpn?: string;
  version?: string;
  cipher?: string;
  /** Client certificate facts, when one was presented. */
  cert?: { cn?: string; sigAlg?: string; keyAlg?: string; verified: boolean };
}

const enc = new TextEncoder();

/** `PROXY TCP4 src dst sport dport\r\n`; `PROXY UNKNOWN\r\n` unless both sides are IP of one family. */
export function proxyV1(ep: ProxyEndpoints): Uint8Array {
  const { srcAddr, dstAddr } = ep;
  let family: string | null = null;
  if (srcAddr && dstAddr && isIPv4(srcAddr) && isIPv4(dstAddr)) family = "TCP4";
  else if (srcAddr && dstAddr && isIPv6(srcAddr) && isIPv6(dstAddr)) family = "TCP6";
  if (family === null) return enc.encode("PROXY UNKNOWN\r\n");
  return enc.encode(`PROXY ${family} ${srcAddr} ${dstAddr} ${ep.srcPort} ${ep.dstPort}\r\n`);
}

/** An IPv4 address, or the IPv4 inside an IPv4-mapped IPv6 address; else null. */
function asIPv4(ip: string | null): string | null {
  if (!ip) return null;
  const v4 = unmapIPv4(ip);
  return isIPv4(v4) ? v4 : null;
}

function tlv(type: number, value: Uint8Array): number[] {
  return [type, value.length >> 8, value.length & 0xff, ...value];
}

/** CRC32C (Castagnoli), reflected, as PROXY v2's CRC32C TLV needs. */
export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * The v2 header: PROXY command over STREAM with the address block (IPv4 when both
 * sides are IPv4 or IPv4-mapped, else IPv6 with IPv4 promoted to mapped form), or the
 * LOCAL command without addresses when a side is not IP; TLS TLVs when `tls` is given.
 */
export function proxyV2(ep: ProxyEndpoints, tls?: ProxyTlsFacts): Uint8Array {
  const body: number[] = [];
  let command = 0x21; // version 2, PROXY
  let family = 0x11; // INET, STREAM
  const src4 = asIPv4(ep.srcAddr);
  const dst4 = asIPv4(ep.dstAddr);
  const ip = (a: string | null) => a !== null && (isIPv4(a) || isIPv6(a));
  if (!ip(ep.srcAddr) || !ip(ep.dstAddr)) {
    command = 0x20; // LOCAL: the receiver uses the real connection endpoints
    family = 0x00;
  } else if (src4 && dst4) {
    body.push(...ipBytes(src4)!, ...ipBytes(dst4)!);
    body.push(ep.srcPort >> 8, ep.srcPort & 0xff, ep.dstPort >> 8, ep.dstPort & 0xff);
  } else {
    family = 0x21; // INET6, STREAM
    const six = (a: string) => ipBytes(isIPv4(a) ? `::ffff:${a}` : a)!;
    body.push(...six(ep.srcAddr!), ...six(ep.dstAddr!));
    body.push(ep.srcPort >> 8, ep.srcPort & 0xff, ep.dstPort >> 8, ep.dstPort & 0xff);
  }
  if (tls && command === 0x21) {
    if (tls.alpn) body.push(...tlv(0x01, enc.encode(tls.alpn)));
    if (tls.authority) body.push(...tlv(0x02, enc.encode(tls.authority)));
    const sub: number[] = [];
    if (tls.version) sub.push(...tlv(0x21, enc.encode(tls.version)));
    if (tls.cert?.cn) sub.push(...tlv(0x22, enc.encode(tls.cert.cn)));
    if (tls.cipher) sub.push(...tlv(0x23, enc.encode(tls.cipher)));
    if (tls.cert?.sigAlg) sub.push(...tlv(0x24, enc.encode(tls.cert.sigAlg)));
    if (tls.cert?.keyAlg) sub.push(...tlv(0x25, enc.encode(tls.cert.keyAlg)));
    // client: SSL, plus CERT_CONN|CERT_SESS when a certificate came with this connection.
    const client = 0x01 | (tls.cert ? 0x06 : 0);
    // verify: 0 only for a certificate that verified (PROXY v2 spec, section 2.2.5).
    const verify = tls.cert?.verified ? 0 : 1;
    body.push(...tlv(0x20, new Uint8Array([client, 0, 0, 0, verify, ...sub])));
  }
  // The checksum TLV goes with the TLS TLVs (a bare address block stays the classic 28 bytes).
  const withCrc = tls !== undefined && command === 0x21;
  const crcAt = body.length;
  if (withCrc) body.push(0x03, 0, 4, 0, 0, 0, 0);
  const out = new Uint8Array(16 + body.length);
  out.set(V2_SIGNATURE);
  out[12] = command;
  out[13] = family;
  out[14] = body.length >> 8;
  out[15] = body.length & 0xff;
  out.set(body, 16);
  if (withCrc) {
    const crc = crc32c(out);
    const at = 16 + crcAt + 3;
    out[at] = crc >>> 24;
    out[at + 1] = (crc >>> 16) & 0xff;
    out[at + 2] = (crc >>> 8) & 0xff;
    out[at + 3] = crc & 0xff;
  }
  return out;
}
