/**
 * After a client handshake: what nginx would know about the TLS session and the
 * client certificate (Auth-SSL-* headers, spec §3.1) and whether the session may go
 * on (spec §4.4.3). The runtime verified the chain against the client CAs; mailproxy
 * adds what it cannot do on every runtime: `ssl_verify_depth`, CRLs, the
 * `optional_no_ca` tolerance, and nginx's wording of each verdict.
 * @module
 */

import { createHash, X509Certificate } from "node:crypto";
import type { PeerCertificate, TLSSocket } from "node:tls";
import type { ClientTlsInfo } from "../types.ts";
import type { ServerConfig } from "../config/mod.ts";
import { checkCrls, type Crl } from "./crl.ts";
import { toPem } from "./der.ts";
import { certParts, rfc2253, SIGNATURE_NAMES } from "./x509.ts";

/** node's verify error codes → OpenSSL's number and text (`X509_verify_cert_error_string`). */
const VERIFY_ERRORS: Record<string, [number, string]> = {
  UNABLE_TO_GET_ISSUER_CERT: [2, "unable to get issuer certificate"],
  UNABLE_TO_GET_CRL: [3, "unable to get certificate CRL"],
  UNABLE_TO_DECRYPT_CERT_SIGNATURE: [4, "unable to decrypt certificate's signature"],
  UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY: [6, "unable to decode issuer public key"],
  CERT_SIGNATURE_FAILURE: [7, "certificate signature failure"],
  CERT_NOT_YET_VALID: [9, "certificate is not yet valid"],
  CERT_HAS_EXPIRED: [10, "certificate has expired"],
  ERROR_IN_CERT_NOT_BEFORE_FIELD: [13, "format error in certificate's notBefore field"],
  ERROR_IN_CERT_NOT_AFTER_FIELD: [14, "format error in certificate's notAfter field"],
  DEPTH_ZERO_SELF_SIGNED_CERT: [18, "self-signed certificate"],
  SELF_SIGNED_CERT_IN_CHAIN: [19, "self-signed certificate in certificate chain"],
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: [20, "unable to get local issuer certificate"],
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: [21, "unable to verify the first certificate"],
  CERT_CHAIN_TOO_LONG: [22, "certificate chain too long"],
  CERT_REVOKED: [23, "certificate revoked"],
  INVALID_CA: [24, "invalid CA certificate"],
  PATH_LENGTH_EXCEEDED: [25, "path length constraint exceeded"],
  INVALID_PURPOSE: [26, "unsupported certificate purpose"],
  CERT_UNTRUSTED: [27, "certificate not trusted"],
  CERT_REJECTED: [28, "certificate rejected"],
  HOSTNAME_MISMATCH: [62, "hostname mismatch"],
};

/** Codes `optional_no_ca` tolerates (nginx's `ngx_ssl_verify_error_optional`). */
const OPTIONAL_NO_CA = new Set([18, 19, 20, 21, 27]);

/** A verification outcome: 0 = OK, else OpenSSL's code and text. */
export interface VerifyResult {
  code: number;
  text: string;
}

/** What the session does after the handshake. */
export type CertVerdict =
  | { ok: true; info: ClientTlsInfo; chain: Uint8Array[] }
  /** Send the protocol's cert-error (`error`) or no-cert (`missing`) line and close. */
  | { ok: false; why: "error" | "missing"; log: string; info: ClientTlsInfo };

/** The certificates the client's chain was verified with, leaf first (DER). */
function peerChain(socket: TLSSocket): Uint8Array[] {
  const chain: Uint8Array[] = [];
  let cert: PeerCertificate | undefined;
  try {
    cert = socket.getPeerCertificate(true) as PeerCertificate;
  } catch {
    return chain;
  }
  const seen = new Set<string>();
  while (cert && cert.raw && chain.length < 64) {
    const key = cert.fingerprint256 ?? String(chain.length);
    if (seen.has(key)) break;
    seen.add(key);
    chain.push(new Uint8Array(cert.raw));
    const next: PeerCertificate | undefined =
      (cert as { issuerCertificate?: PeerCertificate }).issuerCertificate;
    if (!next || next === cert) break;
    cert = next;
  }
  return chain;
}

/**
 * Runtimes differ in whether the peer chain they report ends with the trust anchor:
 * append the issuers from the client CAs until a self-issued certificate, so depth
 * and CRL checks always see the whole path.
 */
function completeChain(chain: Uint8Array[], clientCa: readonly string[]): Uint8Array[] {
  if (chain.length === 0) return chain;
  const cas = clientCa.map((pem) => new X509Certificate(pem));
  while (chain.length < 64) {
    const last = new X509Certificate(chain[chain.length - 1]);
    if (last.checkIssued(last)) break;
    const issuer = cas.find((ca) => last.checkIssued(ca) && last.verify(ca.publicKey));
    if (!issuer || chain.some((c) => new X509Certificate(c).fingerprint256 === issuer.fingerprint256)) break;
    chain.push(new Uint8Array(issuer.raw));
  }
  return chain;
}

function runtimeVerdict(socket: TLSSocket): VerifyResult {
  if (socket.authorized) return { code: 0, text: "ok" };
  const err = socket.authorizationError as unknown;
  const name = typeof err === "string"
    ? err
    : err instanceof Error
    ? (err as { code?: string }).code ?? err.message
    : "";
  const known = VERIFY_ERRORS[name];
  return known
    ? { code: known[0], text: known[1] }
    : { code: 1, text: name || "unspecified certificate verification error" };
}

/**
 * `ssl_verify_depth` as OpenSSL counts it: the number of intermediate CAs between the
 * client certificate and the trust anchor (depth 1 = one intermediate at most).
 */
function depthExceeded(chain: Uint8Array[], depth: number): boolean {
  const anchorSelfSigned = chain.length > 1 && isSelfIssued(chain[chain.length - 1]);
  const intermediates = chain.length - (anchorSelfSigned ? 2 : 1);
  return intermediates > depth;
}

function isSelfIssued(der: Uint8Array): boolean {
  try {
    const c = new X509Certificate(der);
    return c.checkIssued(c);
  } catch {
    return false;
  }
}

/** Facts about the TLS session nginx sends even without client verification. */
export function sessionInfo(socket: TLSSocket): ClientTlsInfo {
  const info: ClientTlsInfo = {};
  const protocol = socket.getProtocol?.();
  if (protocol) info.protocol = protocol;
  const cipher = socket.getCipher?.();
  if (cipher?.name) info.cipher = cipher.name;
  return info;
}

/**
 * The client-certificate verdict for a server's `ssl_verify_client` setting, with the
 * Auth-SSL-* facts. With verification off only protocol and cipher are reported.
 */
export function checkClientCert(
  socket: TLSSocket,
  server: ServerConfig,
  trust: { clientCa: readonly string[]; crls: readonly Crl[] },
): CertVerdict {
  const info = sessionInfo(socket);
  const mode = server.ssl_verify_client;
  if (mode === "off") return { ok: true, info, chain: [] };
  const chain = completeChain(peerChain(socket), trust.clientCa);
  const crls = trust.crls;
  if (chain.length === 0) {
    info.verify = "NONE";
    if (mode === "on") {
      return { ok: false, why: "missing", log: "client sent no required SSL certificate", info };
    }
    return { ok: true, info, chain };
  }
  let result = runtimeVerdict(socket);
  if (result.code === 0 && depthExceeded(chain, server.ssl_verify_depth)) {
    result = { code: 22, text: "certificate chain too long" };
  }
  if (result.code === 0 && crls.length > 0) result = checkCrls(chain, crls) ?? result;
  Object.assign(info, certFacts(chain[0]));
  info.verify = result.code === 0 ? "SUCCESS" : `FAILED:${result.text}`;
  if (result.code !== 0 && !(mode === "optional_no_ca" && OPTIONAL_NO_CA.has(result.code))) {
    return {
      ok: false,
      why: "error",
      log: `client SSL certificate verify error: (${result.code}:${result.text})`,
      info,
    };
  }
  return { ok: true, info, chain };
}

/** Subject, issuer, serial, fingerprint and PEM of a client certificate, as nginx formats them. */
export function certFacts(der: Uint8Array): ClientTlsInfo {
  const x509 = new X509Certificate(der);
  let subject: string;
  let issuer: string;
  try {
    const parts = certParts(der);
    subject = rfc2253(parts.subject);
    issuer = rfc2253(parts.issuer);
  } catch {
    // Unusual encodings: node's multi-line form, reversed into RFC 2253 order.
    subject = x509.subject.split("\n").reverse().join(",");
    issuer = x509.issuer.split("\n").reverse().join(",");
  }
  return {
    subject,
    issuer,
    serial: x509.serialNumber.toUpperCase(),
    fingerprint: createHash("sha1").update(der).digest("hex"),
    certPem: toPem(der, "CERTIFICATE"),
  };
}

/** The client certificate's CN and algorithms, for the PROXY v2 SSL sub-TLVs. */
export function certAlgorithms(der: Uint8Array): { cn?: string; sigAlg?: string; keyAlg?: string } {
  const out: { cn?: string; sigAlg?: string; keyAlg?: string } = {};
  try {
    const x509 = new X509Certificate(der);
    const cn = x509.subject.split("\n").find((l) => l.startsWith("CN="));
    if (cn) out.cn = cn.slice(3);
    const type = x509.publicKey.asymmetricKeyType;
    out.keyAlg = type === "rsa" ? "rsaEncryption" : type === "ec" ? "id-ecPublicKey" : type?.toUpperCase();
    out.sigAlg = SIGNATURE_NAMES[certParts(der).signatureOid];
  } catch {
    // Best effort: the TLVs are informational.
  }
  return out;
}
