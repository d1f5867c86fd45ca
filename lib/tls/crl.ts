/**
 * `ssl_crl`: certificate revocation lists, checked by mailproxy itself after the
 * runtime verified the chain. Deno's TLS (rustls behind node:tls) ignores the `crl`
 * option, so the check lives here and runs the same on both runtimes. Like nginx
 * (which sets `X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL`), every certificate
 * of the chain below the trust anchor needs a valid CRL from its issuer.
 * @module
 */

import { verify as verifySignature, X509Certificate } from "node:crypto";
import {
  children,
  type Der,
  DerError,
  expect,
  integerHex,
  isTime,
  oidText,
  parseDer,
  pemBlocks,
  TAG,
  timeValue,
} from "./der.ts";
import { certParts, SIGNATURE_HASHES } from "./x509.ts";

/** One parsed CRL. */
export interface Crl {
  /** The issuer Name, DER. */
  issuer: Uint8Array;
  thisUpdate: number;
  nextUpdate: number | null;
  /** Revoked serials, uppercase hex without leading zeros. */
  revoked: Set<string>;
  /** What the signature covers, the algorithm and the signature, to check against the issuer's key. */
  tbs: Uint8Array;
  signatureOid: string;
  signature: Uint8Array;
}

/** Parses every CRL of a PEM file; throws with a readable message when one is malformed. */
export function parseCrls(pem: string): Crl[] {
  const blocks = pemBlocks(pem, "X509 CRL");
  return blocks.map((der, i) => {
    try {
      return parseCrl(der);
    } catch (err) {
      throw new Error(`CRL #${i + 1} is malformed (${err instanceof Error ? err.message : err})`);
    }
  });
}

function parseCrl(der: Uint8Array): Crl {
  const [tbs, sigAlg, sig] = children(expect(parseDer(der), TAG.SEQUENCE, "a CRL"));
  const fields = children(expect(tbs, TAG.SEQUENCE, "tbsCertList"));
  let at = fields[0]?.tag === TAG.INTEGER ? 1 : 0; // optional version
  at++; // signature AlgorithmIdentifier
  const issuer = expect(fields[at++], TAG.SEQUENCE, "issuer");
  if (!isTime(fields[at])) throw new DerError("expected thisUpdate");
  const thisUpdate = timeValue(fields[at++]);
  const nextUpdate = isTime(fields[at]) ? timeValue(fields[at++]) : null;
  const revoked = new Set<string>();
  if (fields[at]?.tag === TAG.SEQUENCE) {
    for (const entry of children(fields[at])) {
      const [serial] = children(expect(entry, TAG.SEQUENCE, "a revoked entry"));
      revoked.add(integerHex(serial));
    }
  }
  const [oid] = children(expect(sigAlg, TAG.SEQUENCE, "signatureAlgorithm"));
  const bits = expect(sig, TAG.BIT_STRING, "signatureValue").value;
  if (bits.length < 1 || bits[0] !== 0) throw new DerError("unexpected signature bit string");
  return {
    issuer: issuer.raw,
    thisUpdate,
    nextUpdate,
    revoked,
    tbs: tbs.raw,
    signatureOid: oidText(oid),
    signature: bits.subarray(1),
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** True when `issuerCert`'s key signed the CRL. */
function signedBy(crl: Crl, issuerCert: X509Certificate): boolean {
  const hash = SIGNATURE_HASHES[crl.signatureOid];
  if (hash === undefined) return false;
  try {
    return verifySignature(hash, crl.tbs, issuerCert.publicKey, crl.signature);
  } catch {
    return false;
  }
}

/** A failed check, as OpenSSL's verify code and text (what nginx logs and sends). */
export interface CrlFailure {
  code: number;
  text: string;
}

/**
 * Checks `chain` (leaf first, each followed by its issuer; the trust anchor last) against
 * `crls` at time `now`. Returns null when every certificate below the anchor is covered
 * by a valid, current CRL from its issuer and none is revoked.
 */
export function checkCrls(
  chain: readonly Uint8Array[],
  crls: readonly Crl[],
  now = Date.now(),
): CrlFailure | null {
  for (let i = 0; i + 1 < chain.length; i++) {
    let parts: Der;
    let serial: string;
    try {
      const p = certParts(chain[i]);
      parts = p.issuer;
      serial = p.serialHex;
    } catch {
      return { code: 3, text: "unable to get certificate CRL" };
    }
    const issuerCert = new X509Certificate(chain[i + 1]);
    const crl = crls.find((c) => sameBytes(c.issuer, parts.raw) && signedBy(c, issuerCert));
    if (!crl) return { code: 3, text: "unable to get certificate CRL" };
    if (crl.thisUpdate > now) return { code: 11, text: "CRL is not yet valid" };
    if (crl.nextUpdate !== null && crl.nextUpdate < now) return { code: 12, text: "CRL has expired" };
    if (crl.revoked.has(serial)) return { code: 23, text: "certificate revoked" };
  }
  return null;
}
