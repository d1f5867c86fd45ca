/**
 * A minimal DER reader: just enough ASN.1 to take apart certificates and CRLs for
 * what `node:crypto` does not expose (names in RFC 2253 form as nginx prints them,
 * CRL entries, the signature algorithm). Every read is bounds-checked and throws
 * {@link DerError} on malformed input; callers decide what a bad structure means.
 * @module
 */

/** Malformed or unexpected DER. */
export class DerError extends Error {}

/** One TLV: tag byte, and the value's position in the buffer it was read from. */
export interface Der {
  tag: number;
  /** The whole element (tag, length, value). */
  raw: Uint8Array;
  /** The value bytes. */
  value: Uint8Array;
}

/** Universal tags used here. */
export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  SEQUENCE: 0x30,
  SET: 0x31,
  PRINTABLE_STRING: 0x13,
  T61_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  UNIVERSAL_STRING: 0x1c,
  BMP_STRING: 0x1e,
} as const;

/** Reads the element at `at`; returns it and the offset after it. */
export function readDer(buf: Uint8Array, at = 0): { der: Der; next: number } {
  if (at + 2 > buf.length) throw new DerError("truncated element");
  const tag = buf[at];
  if ((tag & 0x1f) === 0x1f) throw new DerError("multi-byte tags are not supported");
  let p = at + 1;
  let len = buf[p++];
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new DerError("unsupported length form");
    if (p + n > buf.length) throw new DerError("truncated length");
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p++];
  }
  if (p + len > buf.length) throw new DerError("truncated value");
  return {
    der: { tag, raw: buf.subarray(at, p + len), value: buf.subarray(p, p + len) },
    next: p + len,
  };
}

/** The elements inside a constructed value (SEQUENCE, SET, explicit tags). */
export function children(der: Der): Der[] {
  if (!(der.tag & 0x20)) throw new DerError(`tag 0x${der.tag.toString(16)} is not constructed`);
  const out: Der[] = [];
  let at = 0;
  while (at < der.value.length) {
    const { der: child, next } = readDer(der.value, at);
    out.push(child);
    at = next;
  }
  return out;
}

/** Parses a whole buffer as exactly one element. */
export function parseDer(buf: Uint8Array): Der {
  const { der, next } = readDer(buf, 0);
  if (next !== buf.length) throw new DerError("trailing bytes");
  return der;
}

/** Expects `der` to have `tag`. */
export function expect(der: Der | undefined, tag: number, what: string): Der {
  if (!der || der.tag !== tag) throw new DerError(`expected ${what}`);
  return der;
}

/** Dotted form of an OBJECT IDENTIFIER value. */
export function oidText(der: Der): string {
  const v = expect(der, TAG.OID, "an OID").value;
  if (v.length === 0) throw new DerError("empty OID");
  const parts: number[] = [];
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    n = n * 128 + (v[i] & 0x7f);
    if (n > Number.MAX_SAFE_INTEGER / 128) throw new DerError("OID arc too large");
    if (!(v[i] & 0x80)) {
      if (parts.length === 0) {
        const first = n < 80 ? Math.floor(n / 40) : 2;
        parts.push(first, n - first * 40);
      } else parts.push(n);
      n = 0;
    }
  }
  if (v[v.length - 1] & 0x80) throw new DerError("unterminated OID");
  return parts.join(".");
}

/** An INTEGER as uppercase hex without leading zero bytes ("0" for zero). */
export function integerHex(der: Der): string {
  const v = expect(der, TAG.INTEGER, "an INTEGER").value;
  let i = 0;
  while (i < v.length - 1 && v[i] === 0) i++;
  let out = "";
  for (; i < v.length; i++) out += v[i].toString(16).padStart(2, "0");
  return out.toUpperCase() || "0";
}

/** UTCTime / GeneralizedTime (the `Z` forms DER requires) as epoch ms. */
export function timeValue(der: Der): number {
  const text = new TextDecoder("latin1").decode(der.value);
  let m: RegExpExecArray | null;
  if (der.tag === TAG.UTC_TIME && (m = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(text))) {
    const yy = Number(m[1]);
    return Date.UTC(yy < 50 ? 2000 + yy : 1900 + yy, Number(m[2]) - 1, +m[3], +m[4], +m[5], +m[6]);
  }
  if (der.tag === TAG.GENERALIZED_TIME && (m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(text))) {
    return Date.UTC(Number(m[1]), Number(m[2]) - 1, +m[3], +m[4], +m[5], +m[6]);
  }
  throw new DerError("invalid time");
}

/** True when `der` is a UTCTime or GeneralizedTime. */
export function isTime(der: Der | undefined): boolean {
  return der !== undefined && (der.tag === TAG.UTC_TIME || der.tag === TAG.GENERALIZED_TIME);
}

/** Decodes PEM blocks of the given label (e.g. "CERTIFICATE", "X509 CRL") into DER. */
export function pemBlocks(pem: string, label: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  const re = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`, "g");
  for (const m of pem.matchAll(re)) {
    const b64 = m[1].replace(/\s+/g, "");
    const bin = atob(b64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    out.push(bytes);
  }
  return out;
}

/** DER as a PEM block with 64-column base64 lines. */
export function toPem(der: Uint8Array, label: string): string {
  let bin = "";
  for (let i = 0; i < der.length; i++) bin += String.fromCharCode(der[i]);
  const b64 = btoa(bin);
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}
