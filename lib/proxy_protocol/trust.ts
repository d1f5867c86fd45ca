/**
 * `set_real_ip_from` (spec §2.2): who may send PROXY headers. Entries are IPs, CIDRs,
 * host names (resolved when the listeners are built — at start and on reload — all
 * addresses, exact match, as nginx resolves them at startup) or `unix:` (every
 * UNIX-socket peer).
 * @module
 */

import { lookup } from "node:dns/promises";
import type { Address } from "../transport/mod.ts";
import { ipBytes, unmapIPv4 } from "../util/ip.ts";

/** One trusted network. */
interface Network {
  bytes: number[];
  prefix: number;
}

/** A resolved trust list. */
export interface RealIpTrust {
  networks: Network[];
  unix: boolean;
}

/** IP text → bytes (4 or 16), IPv4-mapped IPv6 as IPv4; null when not an IP. */
export function ipToBytes(ip: string): number[] | null {
  return ipBytes(unmapIPv4(ip));
}

function network(ip: string, prefix?: number): Network | null {
  const bytes = ipToBytes(ip);
  if (!bytes) return null;
  return { bytes, prefix: prefix ?? bytes.length * 8 };
}

/** Resolves the entries; host names that do not resolve are an error (nginx: "host not found"). */
export async function buildRealIpTrust(entries: readonly string[]): Promise<RealIpTrust> {
  const trust: RealIpTrust = { networks: [], unix: false };
  for (const entry of entries) {
    if (entry === "unix:") {
      trust.unix = true;
      continue;
    }
    const slash = entry.indexOf("/");
    if (slash >= 0) {
      const net = network(entry.slice(0, slash), Number(entry.slice(slash + 1)));
      if (!net) throw new Error(`set_real_ip_from "${entry}": invalid CIDR`);
      trust.networks.push(net);
      continue;
    }
    const direct = network(entry);
    if (direct) {
      trust.networks.push(direct);
      continue;
    }
    let found: { address: string }[];
    try {
      found = await lookup(entry, { all: true });
    } catch (err) {
      throw new Error(
        `set_real_ip_from "${entry}": host not found (${(err as { code?: string }).code ?? err})`,
      );
    }
    for (const a of found) {
      const net = network(a.address);
      if (net) trust.networks.push(net);
    }
  }
  return trust;
}

/** True when the TCP peer may send a PROXY header that replaces the client address. */
export function isTrusted(trust: RealIpTrust, peer: Address): boolean {
  if (peer.transport === "unix") return trust.unix;
  const bytes = ipToBytes(peer.hostname);
  if (!bytes) return false;
  return trust.networks.some((n) => {
    if (n.bytes.length !== bytes.length) return false;
    for (let bit = 0; bit < n.prefix; bit++) {
      const mask = 0x80 >> (bit & 7);
      if ((n.bytes[bit >> 3] & mask) !== (bytes[bit >> 3] & mask)) return false;
    }
    return true;
  });
}
