/**
 * The driver side of an incoming PROXY header (spec §2.1–2.2), as nginx does it: reads
 * the header from any peer until the parser has a verdict (bounded by 4096 bytes; the
 * caller's `timeout` closes the connection), puts the bytes after the header back for
 * the protocol or TLS, and applies realip to `conn.remoteAddr` only when the peer is in
 * `set_real_ip_from`. The addresses go to auth_http (Proxy-Protocol-*) either way.
 * @module
 */

import type { ProxyProtocolInfo } from "../types.ts";
import type { Address, Conn } from "../transport/mod.ts";
import { parseProxyHeader, PROXY_HEADER_LIMIT } from "./parser.ts";
import { ipToBytes, isTrusted, type RealIpTrust } from "./trust.ts";
import { unmapIPv4 } from "../util/ip.ts";

/** How reading the header ended. */
export type ProxyAcceptResult =
  /**
   * Go on; `info` feeds the Proxy-Protocol-* auth headers (absent for UNKNOWN/LOCAL);
   * `realIp`: the header's source replaced `conn.remoteAddr` (a trusted peer).
   */
  | { ok: true; info?: ProxyProtocolInfo; peer: Address; realIp: boolean }
  /**
   * Close without a reply; `log` says why (nginx logs `broken header: "…"`). `closed`:
   * the peer went away (or the deadline closed it) before a header came: no error.
   */
  | { ok: false; log: string; closed?: boolean };

/**
 * Reads the PROXY header of `conn` and applies realip when `trust` (`set_real_ip_from`;
 * undefined when empty) names the peer.
 */
export async function acceptProxyHeader(
  conn: Conn,
  trust: RealIpTrust | undefined,
): Promise<ProxyAcceptResult> {
  const peer = conn.remoteAddr;
  let buf = new Uint8Array(0);
  while (true) {
    const data = await conn.read();
    if (data === null) {
      return { ok: false, log: "client closed connection before the PROXY protocol header", closed: true };
    }
    const next = new Uint8Array(Math.min(buf.length + data.length, PROXY_HEADER_LIMIT + data.length));
    next.set(buf);
    next.set(data, buf.length);
    buf = next;
    const parsed = parseProxyHeader(buf);
    if (parsed.kind === "more") {
      if (buf.length >= PROXY_HEADER_LIMIT) {
        return { ok: false, log: "broken header: PROXY header over 4096 bytes" };
      }
      continue;
    }
    if (parsed.kind === "invalid") {
      return { ok: false, log: `broken header: "${parsed.text}" (${parsed.reason})` };
    }
    conn.unread(buf.subarray(parsed.length));
    const a = parsed.addresses;
    if (!a) return { ok: true, peer, realIp: false };
    const info: ProxyProtocolInfo = {
      srcAddr: a.srcAddr,
      srcPort: a.srcPort,
      dstAddr: a.dstAddr,
      dstPort: a.dstPort,
    };
    // realip: only for a trusted peer, and only a parseable IP source replaces the client (spec §2.2).
    const src = trust && isTrusted(trust, peer) && ipToBytes(a.srcAddr) ? unmapIPv4(a.srcAddr) : null;
    if (src !== null) conn.remoteAddr = { transport: "tcp", hostname: src, port: a.srcPort };
    return { ok: true, info, peer, realIp: src !== null };
  }
}
