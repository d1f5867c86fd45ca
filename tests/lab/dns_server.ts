/**
 * A tiny authoritative-looking DNS server on 127.0.0.1 (UDP, `node:dgram`) for the resolver
 * tests: answers PTR, A and AAAA questions from a table, and can answer NXDOMAIN, SERVFAIL, an
 * empty NOERROR, a truncated reply, or nothing at all. It has its own encoder (independent of
 * lib/resolver, which it tests) and records every question.
 * @module
 */

import { createSocket } from "node:dgram";

/** A scripted non-answer. */
export type DnsBehaviour = "nxdomain" | "servfail" | "empty" | "drop" | "truncated";

/** A PTR entry: the name, a behaviour, or a CNAME hop first (RFC 2317 style) then the name. */
export type PtrEntry = string | DnsBehaviour | { cname: string; ptr?: string };

/** What the server knows. Names without trailing dot; unknown questions get NXDOMAIN. */
export interface DnsZone {
  /** Keyed by IP address as text (`127.0.0.3`, `::1`). */
  ptr?: Record<string, PtrEntry>;
  /** Keyed by lower-case name. */
  a?: Record<string, string[] | DnsBehaviour>;
  aaaa?: Record<string, string[] | DnsBehaviour>;
}

/** One question received. */
export interface DnsQuestion {
  name: string;
  type: "A" | "AAAA" | "PTR" | string;
}

/** A running test DNS server. */
export interface DnsServer {
  port: number;
  /** `127.0.0.1:PORT`, for the `resolver` setting. */
  address: string;
  /** Questions in the order received. */
  questions: DnsQuestion[];
  /** Replaces the table. */
  setZone(zone: DnsZone): void;
  stop(): Promise<void>;
}

const TYPES: Record<number, string> = { 1: "A", 5: "CNAME", 12: "PTR", 28: "AAAA" };
const CODES: Record<string, number> = { A: 1, CNAME: 5, PTR: 12, AAAA: 28 };

/** The reverse-lookup name of an IPv4 or IPv6 address (test-side, independent of lib/). */
export function ptrName(ip: string): string {
  if (ip.includes(".") && !ip.includes(":")) return `${ip.split(".").reverse().join(".")}.in-addr.arpa`;
  const [head, tail] = ip.split("::");
  const groups = (s: string | undefined) => (s ? s.split(":") : []);
  const h = groups(head);
  const t = groups(tail);
  const all = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  const hex = all.map((g) => g.padStart(4, "0")).join("");
  return `${hex.split("").reverse().join(".")}.ip6.arpa`;
}

function encodeName(name: string): number[] {
  const out: number[] = [];
  for (const label of name.split(".")) {
    const bytes = [...label].map((c) => c.charCodeAt(0) & 0xff);
    out.push(bytes.length, ...bytes);
  }
  out.push(0);
  return out;
}

function u16(n: number): number[] {
  return [(n >> 8) & 255, n & 255];
}

function addressBytes(ip: string): number[] {
  if (!ip.includes(":")) return ip.split(".").map(Number);
  const [head, tail] = ip.split("::");
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const all = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  return all.flatMap((g) => u16(parseInt(g, 16)));
}

function record(name: string, type: string, rdata: number[]): number[] {
  return [...encodeName(name), ...u16(CODES[type]), ...u16(1), 0, 0, 0, 60, ...u16(rdata.length), ...rdata];
}

/** Parses the question of a query: id, name, type code and where the question ends. */
function parseQuery(msg: Uint8Array): { id: number; name: string; type: number; end: number } | null {
  if (msg.length < 17) return null;
  let p = 12;
  const labels: string[] = [];
  while (p < msg.length && msg[p] !== 0) {
    const len = msg[p];
    if (len > 63 || p + 1 + len > msg.length) return null;
    labels.push(String.fromCharCode(...msg.subarray(p + 1, p + 1 + len)));
    p += 1 + len;
  }
  if (p + 5 > msg.length) return null;
  return {
    id: (msg[0] << 8) | msg[1],
    name: labels.join("."),
    type: (msg[p + 1] << 8) | msg[p + 2],
    end: p + 5,
  };
}

/** Starts the server on 127.0.0.1 (a free UDP port). */
export function startDnsServer(initial: DnsZone = {}): Promise<DnsServer> {
  let zone = initial;
  const questions: DnsQuestion[] = [];
  const socket = createSocket("udp4");

  const answerFor = (name: string, type: string): { rcode: number; answers: number[][] } | DnsBehaviour => {
    const lower = name.toLowerCase();
    if (type === "PTR") {
      const ip = Object.keys(zone.ptr ?? {}).find((k) => ptrName(k) === lower);
      if (ip === undefined) return "nxdomain";
      const entry = zone.ptr![ip];
      if (typeof entry === "object") {
        const answers = [record(name, "CNAME", encodeName(entry.cname))];
        if (entry.ptr !== undefined) answers.push(record(entry.cname, "PTR", encodeName(entry.ptr)));
        return { rcode: 0, answers };
      }
      if (["nxdomain", "servfail", "empty", "drop", "truncated"].includes(entry)) {
        return entry as DnsBehaviour;
      }
      return { rcode: 0, answers: [record(name, "PTR", encodeName(entry))] };
    }
    const table = type === "A" ? zone.a : type === "AAAA" ? zone.aaaa : undefined;
    const entry = table?.[lower];
    if (entry === undefined) {
      // A name known for the other family exists: NOERROR without records (NODATA).
      const other = type === "A" ? zone.aaaa : zone.a;
      return other?.[lower] !== undefined ? "empty" : "nxdomain";
    }
    if (typeof entry === "string") return entry;
    return { rcode: 0, answers: entry.map((ip) => record(name, type, addressBytes(ip))) };
  };

  socket.on("message", (msg: Uint8Array, from: { address: string; port: number }) => {
    const q = parseQuery(msg);
    if (!q) return;
    const type = TYPES[q.type] ?? String(q.type);
    questions.push({ name: q.name, type });
    const result = answerFor(q.name, type);
    if (result === "drop") return;
    const question = [...msg.subarray(12, q.end)];
    let flags = 0x8180; // QR, RD, RA
    let answers: number[][] = [];
    if (result === "nxdomain") flags |= 3;
    else if (result === "servfail") flags |= 2;
    else if (result === "truncated") flags |= 0x0200;
    else if (result !== "empty") {
      flags |= result.rcode;
      answers = result.answers;
    }
    const reply = Uint8Array.from([
      ...u16(q.id),
      ...u16(flags),
      ...u16(1),
      ...u16(answers.length),
      0,
      0,
      0,
      0,
      ...question,
      ...answers.flat(),
    ]);
    socket.send(reply, from.port, from.address);
  });

  return new Promise((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(0, "127.0.0.1", () => {
      const port = socket.address().port;
      resolve({
        port,
        address: `127.0.0.1:${port}`,
        questions,
        setZone(next: DnsZone): void {
          zone = next;
        },
        stop(): Promise<void> {
          return new Promise((done) => socket.close(() => done()));
        },
      });
    });
  });
}
