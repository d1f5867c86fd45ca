/**
 * Reads what a server's TLS needs from disk, once per listener build (start and every
 * reload, so renewed certificate files are picked up): certificate chains, private keys
 * (decrypted with `ssl_password_file` as nginx does: each line tried in order), client
 * CA certificates and CRLs. Problems become one clear error naming the key and file;
 * key material never appears in messages.
 * @module
 */

import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { ServerConfig } from "../config/mod.ts";
import { type Crl, parseCrls } from "./crl.ts";
import { pemBlocks } from "./der.ts";

/** One certificate chain and its (decrypted) key. */
export interface CertKeyPair {
  certFile: string;
  keyFile: string;
  /** PEM chain, leaf first. */
  cert: string;
  /** Unencrypted PKCS#8 PEM. */
  key: string;
  leaf: X509Certificate;
}

/** A name served with its own certificates (SNI). */
export interface SniEntry {
  /** Lower-case host name; `*.example.org` matches one label. */
  name: string;
  pairs: CertKeyPair[];
}

/** Everything read from disk for one server's client-side TLS. */
export interface TlsMaterial {
  pairs: CertKeyPair[];
  sni: SniEntry[];
  /** CA certificates trusted for client certificates (ssl_client_certificate + ssl_trusted_certificate). */
  clientCa: string[];
  crls: Crl[];
}

/** The passphrases of `ssl_password_file`: one per line, trailing blanks dropped, empty lines skipped. */
export function parsePasswordFile(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.replace(/[ \t]+$/, "")).filter((l) => l.length > 0);
}

async function readText(key: string, file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new Error(`${key} "${file}": cannot read (${code ?? (err instanceof Error ? err.message : err)})`);
  }
}

function loadKey(keyName: string, file: string, pem: string, passwords: string[] | null): KeyObject {
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw new Error(`${keyName} "${file}": no PEM private key in the file`);
  }
  if (!/ENCRYPTED/.test(pem)) {
    try {
      return createPrivateKey({ key: pem, format: "pem" });
    } catch {
      throw new Error(`${keyName} "${file}": cannot load the private key`);
    }
  }
  if (!passwords || passwords.length === 0) {
    throw new Error(`${keyName} "${file}" is encrypted: set ssl_password_file`);
  }
  for (const passphrase of passwords) {
    try {
      return createPrivateKey({ key: pem, format: "pem", passphrase });
    } catch {
      // Try the next line, as nginx does.
    }
  }
  throw new Error(
    `${keyName} "${file}": none of the ${passwords.length} passphrase(s) in ssl_password_file opens it`,
  );
}

/**
 * Loads certificate/key pairs (`certName` names the config key in messages, e.g.
 * `ssl_certificate` or `backend_tls_certificate`); keys may be encrypted with a
 * passphrase from `passwordFile`.
 */
export async function loadTlsMaterialPairs(
  certs: readonly string[],
  keys: readonly string[],
  passwordFile: string | null,
  certName = "ssl_certificate",
): Promise<CertKeyPair[]> {
  const passwords = passwordFile === null
    ? null
    : parsePasswordFile(await readText("ssl_password_file", passwordFile));
  return await loadPairs(certs, keys, passwords, certName);
}

async function loadPairs(
  certs: readonly string[],
  keys: readonly string[],
  passwords: string[] | null,
  certName = "ssl_certificate",
): Promise<CertKeyPair[]> {
  const keyName = `${certName}_key`;
  const pairs: CertKeyPair[] = [];
  for (let i = 0; i < certs.length; i++) {
    const certFile = certs[i];
    const keyFile = keys[i];
    if (keyFile === undefined) throw new Error(`no "${keyName}" is defined for certificate "${certFile}"`);
    const cert = await readText(certName, certFile);
    const blocks = pemBlocks(cert, "CERTIFICATE");
    if (blocks.length === 0) throw new Error(`${certName} "${certFile}": no PEM certificate in the file`);
    let leaf: X509Certificate;
    try {
      leaf = new X509Certificate(blocks[0]);
    } catch {
      throw new Error(`${certName} "${certFile}": the first certificate cannot be parsed`);
    }
    const keyObject = loadKey(keyName, keyFile, await readText(keyName, keyFile), passwords);
    if (!leaf.checkPrivateKey(keyObject)) {
      throw new Error(`${keyName} "${keyFile}" does not belong to ${certName} "${certFile}"`);
    }
    // Decrypted once here: both runtimes then get a plain key and the same behaviour.
    const key = keyObject.export({ type: "pkcs8", format: "pem" }) as string;
    pairs.push({ certFile, keyFile, cert, key, leaf });
  }
  return pairs;
}

async function loadCa(key: string, file: string | null): Promise<string[]> {
  if (file === null) return [];
  const text = await readText(key, file);
  const blocks = pemBlocks(text, "CERTIFICATE");
  if (blocks.length === 0) throw new Error(`${key} "${file}": no PEM certificate in the file`);
  return blocks.map((der) => new X509Certificate(der).toString());
}

/** Reads and checks every TLS file of `server`; throws one error naming the key and file. */
export async function loadTlsMaterial(server: ServerConfig): Promise<TlsMaterial> {
  const passwords = server.ssl_password_file === null
    ? null
    : parsePasswordFile(await readText("ssl_password_file", server.ssl_password_file));
  const pairs = await loadPairs(server.ssl_certificate, server.ssl_certificate_key, passwords);
  const sni: SniEntry[] = [];
  for (const entry of server.ssl_sni) {
    sni.push({
      name: entry.name.toLowerCase(),
      pairs: await loadPairs(entry.ssl_certificate, entry.ssl_certificate_key, passwords),
    });
  }
  const verifying = server.ssl_verify_client !== "off";
  const clientCa = verifying
    ? [
      ...await loadCa("ssl_client_certificate", server.ssl_client_certificate),
      ...await loadCa("ssl_trusted_certificate", server.ssl_trusted_certificate),
    ]
    : [];
  let crls: Crl[] = [];
  if (verifying && server.ssl_crl !== null) {
    try {
      crls = parseCrls(await readText("ssl_crl", server.ssl_crl));
    } catch (err) {
      throw new Error(`ssl_crl "${server.ssl_crl}": ${err instanceof Error ? err.message : err}`);
    }
    if (crls.length === 0) throw new Error(`ssl_crl "${server.ssl_crl}": no PEM CRL in the file`);
  }
  return { pairs, sni, clientCa, crls };
}
