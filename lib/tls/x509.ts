/**
 * The parts of an X.509 certificate mailproxy reads itself (with `der.ts`): issuer and
 * subject names as DER (for CRL matching and RFC 2253 text), the serial, the signature
 * algorithm, and the names in the form nginx's Auth-SSL-Subject/Issuer carry.
 * @module
 */

import { children, type Der, DerError, expect, integerHex, oidText, parseDer, TAG } from "./der.ts";

/** What mailproxy needs from a certificate. */
export interface CertParts {
  serialHex: string;
  /** OID of the signature algorithm. */
  signatureOid: string;
  issuer: Der;
  subject: Der;
}

/** Takes a DER certificate apart; throws `DerError` when it is not one. */
export function certParts(der: Uint8Array): CertParts {
  const [tbs, sigAlg] = children(expect(parseDer(der), TAG.SEQUENCE, "a certificate"));
  const fields = children(expect(tbs, TAG.SEQUENCE, "tbsCertificate"));
  // Optional [0] EXPLICIT version comes first.
  const at = fields[0]?.tag === 0xa0 ? 1 : 0;
  const serial = fields[at];
  const issuer = expect(fields[at + 2], TAG.SEQUENCE, "issuer");
  const subject = expect(fields[at + 4], TAG.SEQUENCE, "subject");
  const [oid] = children(expect(sigAlg, TAG.SEQUENCE, "signatureAlgorithm"));
  return { serialHex: integerHex(serial), signatureOid: oidText(oid), issuer, subject };
}

/** OpenSSL short names of name attributes (what `X509_NAME_print_ex` prints). */
const ATTRIBUTE_NAMES: Record<string, string> = {
  "2.5.4.3": "CN",
  "2.5.4.4": "SN",
  "2.5.4.5": "serialNumber",
  "2.5.4.6": "C",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.9": "street",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "2.5.4.12": "title",
  "2.5.4.42": "GN",
  "2.5.4.43": "initials",
  "2.5.4.44": "generationQualifier",
  "2.5.4.46": "dnQualifier",
  "2.5.4.65": "pseudonym",
  "0.9.2342.19200300.100.1.1": "UID",
  "0.9.2342.19200300.100.1.25": "DC",
  "1.2.840.113549.1.9.1": "emailAddress",
};

const STRING_TAGS = new Set<number>([
  TAG.UTF8_STRING,
  TAG.PRINTABLE_STRING,
  TAG.T61_STRING,
  TAG.IA5_STRING,
  0x12, // NumericString
  0x1a, // VisibleString
  TAG.BMP_STRING,
  TAG.UNIVERSAL_STRING,
]);

function hex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0").toUpperCase();
  return out;
}

/** Value bytes as UTF-8 (BMP and Universal strings are converted, as OpenSSL's UTF8_CONVERT does). */
function utf8Bytes(der: Der): Uint8Array {
  if (der.tag === TAG.BMP_STRING || der.tag === TAG.UNIVERSAL_STRING) {
    const width = der.tag === TAG.BMP_STRING ? 2 : 4;
    let text = "";
    for (let i = 0; i + width <= der.value.length; i += width) {
      let cp = 0;
      for (let j = 0; j < width; j++) cp = cp * 256 + der.value[i + j];
      text += String.fromCodePoint(cp <= 0x10ffff ? cp : 0xfffd);
    }
    return new TextEncoder().encode(text);
  }
  return der.value;
}

/**
 * RFC 2253 escaping as OpenSSL's `ASN1_STRFLGS_RFC2253` does it: `,+"\<>;` get a
 * backslash, so do a leading `#` or space and a trailing space; control bytes and
 * bytes ≥ 0x80 become `\XX`.
 */
function escapeValue(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    const ch = String.fromCharCode(c);
    if (c < 0x20 || c >= 0x7f) out += "\\" + c.toString(16).padStart(2, "0").toUpperCase();
    else if (',+"\\<>;'.includes(ch)) out += "\\" + ch;
    else if ((i === 0 && (ch === "#" || ch === " ")) || (i === bytes.length - 1 && ch === " ")) {
      out += "\\" + ch;
    } else out += ch;
  }
  return out;
}

/**
 * A Name in the form nginx sends as Auth-SSL-Subject / Auth-SSL-Issuer
 * (`X509_NAME_print_ex(..., XN_FLAG_RFC2253)`): last RDN first, `,` between RDNs,
 * `+` inside multi-valued ones; unknown attributes as dotted OID with `#` + hex DER.
 */
export function rfc2253(name: Der): string {
  const rdns = children(expect(name, TAG.SEQUENCE, "a Name"));
  const parts: string[] = [];
  for (const rdn of rdns.reverse()) {
    const avas = children(expect(rdn, TAG.SET, "an RDN")).map((ava) => {
      const [type, value] = children(expect(ava, TAG.SEQUENCE, "an attribute"));
      if (!value) throw new DerError("attribute without a value");
      const oid = oidText(type);
      const short = ATTRIBUTE_NAMES[oid];
      if (!short || !STRING_TAGS.has(value.tag)) return `${short ?? oid}=#${hex(value.raw)}`;
      return `${short}=${escapeValue(utf8Bytes(value))}`;
    });
    parts.push(avas.join("+"));
  }
  return parts.join(",");
}

/** OpenSSL short names of signature algorithms (`OBJ_nid2sn`), for the PROXY v2 SSL_SIG_ALG TLV. */
export const SIGNATURE_NAMES: Record<string, string> = {
  "1.2.840.113549.1.1.5": "RSA-SHA1",
  "1.2.840.113549.1.1.11": "RSA-SHA256",
  "1.2.840.113549.1.1.12": "RSA-SHA384",
  "1.2.840.113549.1.1.13": "RSA-SHA512",
  "1.2.840.113549.1.1.10": "RSASSA-PSS",
  "1.2.840.10045.4.1": "ecdsa-with-SHA1",
  "1.2.840.10045.4.3.2": "ecdsa-with-SHA256",
  "1.2.840.10045.4.3.3": "ecdsa-with-SHA384",
  "1.2.840.10045.4.3.4": "ecdsa-with-SHA512",
  "1.3.101.112": "ED25519",
  "1.3.101.113": "ED448",
};

/** Hash names for `crypto.verify` by signature OID (null: the key type implies it, Ed25519/Ed448). */
export const SIGNATURE_HASHES: Record<string, string | null> = {
  "1.2.840.113549.1.1.5": "sha1",
  "1.2.840.113549.1.1.11": "sha256",
  "1.2.840.113549.1.1.12": "sha384",
  "1.2.840.113549.1.1.13": "sha512",
  "1.2.840.10045.4.1": "sha1",
  "1.2.840.10045.4.3.2": "sha256",
  "1.2.840.10045.4.3.3": "sha384",
  "1.2.840.10045.4.3.4": "sha512",
  "1.3.101.112": null,
  "1.3.101.113": null,
};
