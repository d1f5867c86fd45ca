/**
 * The SMTP client host name, found the way nginx finds it (spec §4.3.1): a PTR
 * lookup of the client address, then a forward lookup of that name that must lead
 * back to the same address. The result is the confirmed name, `[UNAVAILABLE]` or
 * `[TEMPUNAVAIL]`; it goes into auth_http's `Client-Host` and XCLIENT `NAME=`.
 *
 * The logic takes a query function, so it is tested without sockets; the UDP
 * client in `udp_client.ts` provides the real one.
 *
 * Classification, as nginx: NXDOMAIN, and NOERROR with an empty answer section
 * (nginx's resolver reports that as NXDOMAIN), give `[UNAVAILABLE]`; SERVFAIL and
 * other codes, timeouts, malformed or truncated responses, answers without a usable
 * record (a lone CNAME) give `[TEMPUNAVAIL]`. A PTR name that is empty or holds
 * anything but `A–Z a–z 0–9 - .` gives `[TEMPUNAVAIL]` (nginx 1.29.7,
 * CVE-2026-28753): it would otherwise reach auth_http headers and the XCLIENT line.
 *
 * Deliberate divergence: the forward lookup asks only for the client's address family
 * (A for IPv4 clients, AAAA for IPv6) since only that can confirm the name; nginx asks
 * for both. IPv4-mapped IPv6 clients are looked up as IPv4.
 * @module
 */

import { ipBytes } from "../util/ip.ts";
import { type DnsRecord, DnsType, Rcode, sameName } from "./dns_message.ts";

/** No host name: the lookup said the name does not exist or does not match. */
export const UNAVAILABLE = "[UNAVAILABLE]";
/** No host name for now: the lookup failed. */
export const TEMPUNAVAIL = "[TEMPUNAVAIL]";

/** What one query came back with. */
export type DnsAnswer =
  | { kind: "answer"; rcode: number; records: DnsRecord[] }
  /** Timeout, network error, truncated or malformed response; `reason` is for the log. */
  | { kind: "failure"; reason: string };

/** Asks one question (name, type) and resolves with the answer; never rejects. */
export type DnsQuery = (name: string, type: number) => Promise<DnsAnswer>;

/** The outcome: the host text, and for the log why it is not a name. */
export interface ClientHost {
  host: string;
  detail?: string;
}

/** The most CNAME links followed inside one answer. */
const MAX_CNAME_CHAIN = 8;
const VALID_NAME = /^[A-Za-z0-9.-]+$/;

/** Looks up `clientIp` (the Client-IP text; `unix:` and other non-IPs give `[TEMPUNAVAIL]`). */
export async function findClientHost(clientIp: string, query: DnsQuery): Promise<ClientHost> {
  const address = clientAddress(clientIp);
  if (address === null) return { host: TEMPUNAVAIL, detail: `"${clientIp}" is not an IP address` };

  const reverse = await query(reverseName(address), DnsType.PTR);
  const ptr = outcome(reverse, reverseName(address), "PTR");
  if ("host" in ptr) return { host: ptr.host, detail: `${clientIp} could not be resolved (${ptr.detail})` };
  const name = ptr.records[0].type === "PTR" ? ptr.records[0].target : "";
  if (!VALID_NAME.test(name)) {
    return { host: TEMPUNAVAIL, detail: `${clientIp} resolved to an invalid name "${name}"` };
  }

  const type = address.length === 4 ? "A" : "AAAA";
  const forward = await query(name, address.length === 4 ? DnsType.A : DnsType.AAAA);
  const found = outcome(forward, name, type);
  if ("host" in found) {
    return { host: found.host, detail: `"${name}" could not be resolved (${found.detail})` };
  }
  const match = found.records.some((r) => r.type === type && equalBytes(r.address, address));
  if (!match) return { host: UNAVAILABLE, detail: `"${name}" does not resolve back to ${clientIp}` };
  return { host: name };
}

/**
 * The records of `type` owned by `name` or by the end of its CNAME chain, or the
 * host text a failure stands for.
 */
function outcome(
  answer: DnsAnswer,
  name: string,
  type: DnsRecord["type"],
): { records: DnsRecord[] } | { host: string; detail: string } {
  if (answer.kind === "failure") return { host: TEMPUNAVAIL, detail: answer.reason };
  if (answer.rcode === Rcode.NXDOMAIN) return { host: UNAVAILABLE, detail: "NXDOMAIN" };
  if (answer.rcode !== Rcode.NOERROR) return { host: TEMPUNAVAIL, detail: `rcode ${answer.rcode}` };
  if (answer.records.length === 0) return { host: UNAVAILABLE, detail: "no records" };
  let owner = name;
  for (let hops = 0; hops <= MAX_CNAME_CHAIN; hops++) {
    const records = answer.records.filter((r) => r.type === type && sameName(r.name, owner));
    if (records.length > 0) return { records };
    const cname = answer.records.find((r) => r.type === "CNAME" && sameName(r.name, owner));
    if (cname === undefined || cname.type !== "CNAME") break;
    owner = cname.target;
  }
  return { host: TEMPUNAVAIL, detail: `no ${type} record in the answer` };
}

/** The client's address as 4 or 16 bytes (IPv4-mapped IPv6 as 4), or null. */
export function clientAddress(ip: string): Uint8Array | null {
  const bytes = ipBytes(ip);
  if (bytes === null) return null;
  const mapped = bytes.length === 16 && bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff &&
    bytes[11] === 0xff;
  return Uint8Array.from(mapped ? bytes.slice(12) : bytes);
}

/** `4.3.2.1.in-addr.arpa` or the nibble form under `ip6.arpa`. */
export function reverseName(address: Uint8Array): string {
  if (address.length === 4) return `${[...address].reverse().join(".")}.in-addr.arpa`;
  const nibbles: string[] = [];
  for (let i = address.length - 1; i >= 0; i--) {
    nibbles.push((address[i] & 15).toString(16), (address[i] >> 4).toString(16));
  }
  return `${nibbles.join(".")}.ip6.arpa`;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
