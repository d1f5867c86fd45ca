/**
 * IP address text → bytes, the one parser behind access rules, set_real_ip_from, the
 * PROXY protocol writer and the resolver's PTR names.
 * @module
 */

import { isIPv4, isIPv6 } from "node:net";

/**
 * An IPv4 (4 bytes) or IPv6 (16 bytes) literal as bytes, else null. Accepts `[v6]`
 * brackets, drops a zone id (`%eth0`), and keeps an IPv4-mapped address as 16 bytes
 * (see {@link unmapIPv4} for callers that treat it as IPv4).
 */
export function ipBytes(ip: string): number[] | null {
  if (isIPv4(ip)) return ip.split(".").map(Number);
  const bare = ip.startsWith("[") && ip.endsWith("]") ? ip.slice(1, -1) : ip;
  let text = bare.replace(/%.*$/, "");
  if (!isIPv6(text)) return null;
  const tail: number[] = [];
  const v4 = /:(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    tail.push(...v4[1].split(".").map(Number));
    text = text.slice(0, v4.index + 1) + "0:0";
  }
  const double = text.indexOf("::");
  const groups = (s: string) => (s === "" ? [] : s.split(":"));
  let all: string[];
  if (double >= 0) {
    const head = groups(text.slice(0, double));
    const rest = groups(text.slice(double + 2));
    all = [...head, ...Array(8 - head.length - rest.length).fill("0"), ...rest];
  } else {
    all = groups(text);
  }
  if (all.length !== 8) return null;
  const bytes = all.flatMap((g) => {
    const n = parseInt(g, 16);
    return [n >> 8, n & 255];
  });
  if (tail.length) bytes.splice(12, 4, ...tail);
  return bytes;
}

/** The IPv4 inside an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`); any other text unchanged. */
export function unmapIPv4(ip: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m ? m[1] : ip;
}
