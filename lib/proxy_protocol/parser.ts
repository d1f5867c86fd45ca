/**
 * Sans-I/O reader of the PROXY protocol header a load balancer sends first (spec
 * §2.1), ported from nginx's `ngx_proxy_protocol_read`: v1 text (`PROXY TCP4|TCP6 …`,
 * `PROXY UNKNOWN …`) and v2 binary (12-byte signature), with nginx's character rules
 * for v1 addresses and ports. Feed it everything received so far; it says how many
 * bytes the header took (the rest is protocol data or a TLS ClientHello).
 *
 * Divergence from nginx: nginx judges the header once, on the first bytes that
 * arrived (a peek), so a header split across TCP segments is "broken". Here an
 * incomplete header waits for more bytes (still bounded by 4096 bytes and the
 * session's `timeout`), which only accepts what nginx would have accepted later.
 * @module
 */

/** Addresses from a header (absent for UNKNOWN, LOCAL, or non-IP families). */
export interface ProxyAddresses {
  srcAddr: string;
  srcPort: number;
  dstAddr: string;
  dstPort: number;
}

/** The outcome of {@link parseProxyHeader}. */
export type ProxyParse =
  /** Not enough bytes yet. */
  | { kind: "more" }
  /** Not a valid header: close. `text` describes the data for the log (nginx's "broken header"), never credentials. */
  | { kind: "invalid"; reason: string; text: string }
  /** A header of `length` bytes; `tlvs` are v2 TLV bytes after the addresses. */
  | { kind: "ok"; version: 1 | 2; length: number; addresses?: ProxyAddresses; tlvs?: Uint8Array };

/** nginx peeks at most this much; a header must fit. */
export const PROXY_HEADER_LIMIT = 4096;
/** Longest v1 line (`PROXY TCP6` + two full IPv6 addresses and ports + CRLF). */
export const V1_MAX = 107;

/** The v2 signature: `\r\n\r\n\0\r\nQUIT\n`. */
export const V2_SIGNATURE = new Uint8Array([
  0x0d,
  0x0a,
  0x0d,
  0x0a,
  0x00,
  0x0d,
  0x0a,
  0x51,
  0x55,
  0x49,
  0x54,
  0x0a,
]);
const PROXY_SP = [0x50, 0x52, 0x4f, 0x58, 0x59, 0x20]; // "PROXY "

function startsWith(buf: Uint8Array, prefix: ArrayLike<number>, limit = prefix.length): boolean {
  const n = Math.min(limit, prefix.length, buf.length);
  for (let i = 0; i < n; i++) if (buf[i] !== prefix[i]) return false;
  return true;
}

/** The first line (up to CR/LF, at most 100 bytes), printable, for the log. */
/**
 * What the log may show of rejected data. nginx logs the first bytes verbatim, but a
 * client that skipped the header sends its commands — `LOGIN user password` — so only
 * data that claims to be a v1 header is shown; anything else is summarised.
 */
function logText(buf: Uint8Array): string {
  const claimsV1 = buf.length >= 6 && String.fromCharCode(...buf.subarray(0, 6)) === "PROXY ";
  if (!claimsV1) return `${buf.length} bytes of non-PROXY data, not logged: they may carry credentials`;
  let out = "";
  for (let i = 0; i < buf.length && i < 100; i++) {
    const c = buf[i];
    if (c === 0x0d || c === 0x0a) break;
    out += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, "0")}`;
  }
  return out;
}

function invalid(buf: Uint8Array, reason: string): ProxyParse {
  return { kind: "invalid", reason, text: logText(buf) };
}

/** Parses the header at the start of `buf` (everything received so far). */
export function parseProxyHeader(buf: Uint8Array): ProxyParse {
  if (buf.length === 0) return { kind: "more" };
  if (startsWith(buf, V2_SIGNATURE)) {
    return buf.length < 16 ? { kind: "more" } : parseV2(buf);
  }
  if (!startsWith(buf, PROXY_SP)) return invalid(buf, "not a PROXY protocol header");
  if (buf.length < PROXY_SP.length) return { kind: "more" };
  let lf = buf.indexOf(0x0a);
  if (lf < 0) {
    return buf.length >= V1_MAX ? invalid(buf, "PROXY v1 line too long") : { kind: "more" };
  }
  if (lf + 1 > V1_MAX) return invalid(buf, "PROXY v1 line too long");
  lf++;
  return parseV1(buf.subarray(0, lf), buf);
}

function parseV1(line: Uint8Array, all: Uint8Array): ProxyParse {
  const text = new TextDecoder("latin1").decode(line);
  let p = 6;
  if (text.startsWith("UNKNOWN", p)) {
    // nginx skips to the first CRLF; no addresses are recorded.
    const crlf = text.indexOf("\r\n", p);
    return crlf < 0
      ? invalid(all, "PROXY UNKNOWN without CRLF")
      : { kind: "ok", version: 1, length: crlf + 2 };
  }
  if (!(text.startsWith("TCP4 ", p) || text.startsWith("TCP6 ", p))) {
    return invalid(all, "unknown PROXY v1 family");
  }
  p += 5;
  const addr = (): string | null => {
    const sp = text.indexOf(" ", p);
    if (sp < 0) return null;
    const value = text.slice(p, sp);
    if (!/^[0-9a-fA-F.:]*$/.test(value)) return null;
    p = sp + 1;
    return value;
  };
  const port = (sep: string): number | null => {
    const end = text.indexOf(sep, p);
    if (end < 0) return null;
    const digits = text.slice(p, end);
    p = end + 1;
    // ngx_atoi: one or more digits, nothing else.
    if (!/^[0-9]{1,5}$/.test(digits)) return null;
    const n = Number(digits);
    return n <= 65535 ? n : null;
  };
  const srcAddr = addr();
  const dstAddr = srcAddr === null ? null : addr();
  const srcPort = dstAddr === null ? null : port(" ");
  const dstPort = srcPort === null ? null : port("\r");
  if (srcAddr === null || dstAddr === null || srcPort === null || dstPort === null || text[p] !== "\n") {
    return invalid(all, "malformed PROXY v1 header");
  }
  return { kind: "ok", version: 1, length: p + 1, addresses: { srcAddr, srcPort, dstAddr, dstPort } };
}

function ipv4(b: Uint8Array): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

/** RFC 5952 text of a 16-byte IPv6 address, with the IPv4-mapped form as `::ffff:a.b.c.d`. */
export function ipv6Text(b: Uint8Array): string {
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((b[i] << 8) | b[i + 1]);
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) return `::ffff:${ipv4(b.subarray(12))}`;
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(":");
  if (bestAt < 0) return hex(words);
  return `${hex(words.slice(0, bestAt))}::${hex(words.slice(bestAt + bestLen))}`;
}

function parseV2(buf: Uint8Array): ProxyParse {
  const version = buf[12] >> 4;
  if (version !== 2) return invalid(buf, `unknown PROXY protocol version: ${version}`);
  const len = (buf[14] << 8) | buf[15];
  const total = 16 + len;
  if (total > PROXY_HEADER_LIMIT) return invalid(buf, "PROXY v2 header is too large");
  if (buf.length < total) return { kind: "more" };
  const command = buf[12] & 0x0f;
  const transport = buf[13] & 0x0f;
  const family = buf[13] >> 4;
  // LOCAL (health checks), non-stream transports and other families carry no client address.
  if (command !== 1 || transport !== 1) return { kind: "ok", version: 2, length: total };
  const body = buf.subarray(16, total);
  let addresses: ProxyAddresses;
  let used: number;
  if (family === 1) {
    if (body.length < 12) return invalid(buf, "PROXY v2 IPv4 block too short");
    addresses = addressBlock(body, 4, ipv4);
    used = 12;
  } else if (family === 2) {
    if (body.length < 36) return invalid(buf, "PROXY v2 IPv6 block too short");
    addresses = addressBlock(body, 16, ipv6Text);
    used = 36;
  } else {
    return { kind: "ok", version: 2, length: total };
  }
  const tlvs = body.subarray(used);
  return { kind: "ok", version: 2, length: total, addresses, ...(tlvs.length > 0 ? { tlvs } : {}) };
}

/**
 * A PROXY v2 address block: source and destination addresses of `size` bytes each,
 * then the two ports (big-endian); `body` holds at least `2 * size + 4` bytes.
 */
function addressBlock(body: Uint8Array, size: number, text: (addr: Uint8Array) => string): ProxyAddresses {
  const ports = 2 * size;
  return {
    srcAddr: text(body.subarray(0, size)),
    dstAddr: text(body.subarray(size, ports)),
    srcPort: (body[ports] << 8) | body[ports + 1],
    dstPort: (body[ports + 2] << 8) | body[ports + 3],
  };
}
