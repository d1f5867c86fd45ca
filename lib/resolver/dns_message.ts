/**
 * A sans-I/O codec for the few DNS messages the SMTP client-host lookup needs
 * (RFC 1035): one-question queries out; responses in, with A, AAAA, PTR and CNAME
 * records decoded (compression pointers followed, loops and overruns refused).
 * Decoding never throws: malformed input is an error value.
 * @module
 */

/** Record types used here. */
export const DnsType = { A: 1, CNAME: 5, PTR: 12, AAAA: 28 } as const;

/** Response codes that change the outcome (RFC 1035 §4.1.1). */
export const Rcode = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3 } as const;

/** One decoded resource record of the answer section; names without the root dot, case as sent. */
export type DnsRecord =
  | { type: "A" | "AAAA"; name: string; ttl: number; address: Uint8Array }
  | { type: "PTR" | "CNAME"; name: string; ttl: number; target: string }
  | { type: "other"; name: string; ttl: number; code: number };

/** A decoded response. */
export interface DnsResponse {
  id: number;
  rcode: number;
  /** TC: the answer did not fit the datagram. */
  truncated: boolean;
  /** The echoed question, when there was exactly one. */
  question: { name: string; type: number } | null;
  answers: DnsRecord[];
}

const HEADER = 12;
const CLASS_IN = 1;
const MAX_NAME = 255;
const MAX_LABEL = 63;
/** More pointer hops than a 512-byte message could legitimately need means a loop. */
const MAX_POINTERS = 64;

/** DNS names compare case-insensitively (ASCII only; escapes are digits and punctuation). */
export function sameName(a: string, b: string): boolean {
  return a.length === b.length && a.toLowerCase() === b.toLowerCase();
}

/**
 * Encodes a query with recursion desired. `name` is a dotted ASCII name (a trailing
 * dot is allowed). Returns null when the name cannot be a DNS name.
 */
export function encodeQuery(id: number, name: string, type: number): Uint8Array | null {
  const labels = name.replace(/\.$/, "").split(".");
  if (labels.some((l) => l.length === 0 || l.length > MAX_LABEL || /[^\x21-\x7e]/.test(l))) return null;
  const qnameLength = labels.reduce((n, l) => n + 1 + l.length, 1);
  if (qnameLength > MAX_NAME) return null;
  const out = new Uint8Array(HEADER + qnameLength + 4);
  const view = new DataView(out.buffer);
  view.setUint16(0, id & 0xffff);
  view.setUint16(2, 0x0100); // RD
  view.setUint16(4, 1); // QDCOUNT
  let p = HEADER;
  for (const label of labels) {
    out[p++] = label.length;
    for (let i = 0; i < label.length; i++) out[p++] = label.charCodeAt(i);
  }
  out[p++] = 0;
  view.setUint16(p, type);
  view.setUint16(p + 2, CLASS_IN);
  return out;
}

/** Decodes a response, or returns a reason it is not one. */
export function decodeResponse(msg: Uint8Array): DnsResponse | { error: string } {
  if (msg.length < HEADER) return { error: "short message" };
  const view = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  const flags = view.getUint16(2);
  if ((flags & 0x8000) === 0) return { error: "not a response" };
  const qdcount = view.getUint16(4);
  const ancount = view.getUint16(6);
  let p = HEADER;
  let question: DnsResponse["question"] = null;
  for (let i = 0; i < qdcount; i++) {
    const name = readName(msg, p);
    if ("error" in name) return name;
    p = name.next;
    if (p + 4 > msg.length) return { error: "truncated question" };
    if (qdcount === 1) question = { name: name.name, type: view.getUint16(p) };
    p += 4;
  }
  const answers: DnsRecord[] = [];
  for (let i = 0; i < ancount; i++) {
    const owner = readName(msg, p);
    if ("error" in owner) return owner;
    p = owner.next;
    if (p + 10 > msg.length) return { error: "truncated record" };
    const type = view.getUint16(p);
    const klass = view.getUint16(p + 2);
    const ttl = view.getUint32(p + 4);
    const rdlength = view.getUint16(p + 8);
    const rdata = p + 10;
    p = rdata + rdlength;
    if (p > msg.length) return { error: "truncated record data" };
    if (klass !== CLASS_IN) continue;
    const record = decodeRecord(msg, type, owner.name, ttl, rdata, rdlength);
    if ("error" in record) return record;
    answers.push(record);
  }
  return {
    id: view.getUint16(0),
    rcode: flags & 0x000f,
    truncated: (flags & 0x0200) !== 0,
    question,
    answers,
  };
}

function decodeRecord(
  msg: Uint8Array,
  type: number,
  name: string,
  ttl: number,
  at: number,
  length: number,
): DnsRecord | { error: string } {
  switch (type) {
    case DnsType.A:
    case DnsType.AAAA: {
      const size = type === DnsType.A ? 4 : 16;
      if (length !== size) return { error: "bad address length" };
      return { type: type === DnsType.A ? "A" : "AAAA", name, ttl, address: msg.slice(at, at + size) };
    }
    case DnsType.PTR:
    case DnsType.CNAME: {
      const target = readName(msg, at);
      if ("error" in target) return target;
      if (target.next !== at + length) return { error: "bad name length in record data" };
      return { type: type === DnsType.PTR ? "PTR" : "CNAME", name, ttl, target: target.name };
    }
    default:
      return { type: "other", name, ttl, code: type };
  }
}

/**
 * Reads a (possibly compressed) name at `start`. Labels are joined with dots, case
 * kept (compare with {@link sameName}); a dot or a byte outside printable ASCII inside a label is escaped
 * (`\.`, `\DDD`) so it can never pass for a name made of other labels.
 */
function readName(msg: Uint8Array, start: number): { name: string; next: number } | { error: string } {
  const labels: string[] = [];
  let p = start;
  let next = -1;
  let hops = 0;
  let length = 1;
  while (true) {
    if (p >= msg.length) return { error: "name runs past the message" };
    const len = msg[p];
    if ((len & 0xc0) === 0xc0) {
      if (p + 1 >= msg.length) return { error: "truncated pointer" };
      if (++hops > MAX_POINTERS) return { error: "compression loop" };
      if (next < 0) next = p + 2;
      p = ((len & 0x3f) << 8) | msg[p + 1];
      continue;
    }
    if ((len & 0xc0) !== 0) return { error: "unknown label type" };
    if (len === 0) break;
    if (p + 1 + len > msg.length) return { error: "label runs past the message" };
    length += len + 1;
    if (length > MAX_NAME) return { error: "name too long" };
    labels.push(labelText(msg.subarray(p + 1, p + 1 + len)));
    p += 1 + len;
  }
  return { name: labels.join("."), next: next < 0 ? p + 1 : next };
}

function labelText(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) {
    if (b === 0x2e || b === 0x5c) out += "\\" + String.fromCharCode(b);
    else if (b <= 0x20 || b >= 0x7f) out += "\\" + String(b).padStart(3, "0");
    else out += String.fromCharCode(b);
  }
  return out;
}
