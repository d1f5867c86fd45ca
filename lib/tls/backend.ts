/**
 * TLS towards backends (beyond nginx, which only speaks plain TCP to them):
 * `backend_tls = "on"` (TLS right after connect, e.g. IMAPS 993) or `"starttls"`
 * (the protocol's STARTTLS/STLS first, see `lib/protocols/<protocol>/backend_preamble.ts`), with the server
 * certificate verified against `backend_tls_ca` (or the runtime's roots) by default and
 * an optional client certificate. Auth-Server is an IP address, so the certificate is
 * checked for that IP unless `backend_tls_name` names the host to expect.
 * @module
 */

import { isIP } from "node:net";
import * as tls from "node:tls";
import type { ServerConfig } from "../config/mod.ts";
import type { TlsHandshake } from "../transport/mod.ts";
import { loadTlsMaterialPairs } from "./material.ts";

/** The backend TLS mode of one session (server setting or the auth service's Auth-Backend-TLS). */
export type BackendTlsMode = "off" | "on" | "starttls";

/** What backend handshakes need; built with the listeners. */
export interface BackendTlsContext {
  /** A handshake towards the backend at `ip` (port only for messages). */
  handshake(ip: string): TlsHandshake;
}

/** Builds the backend TLS context of a server (reads the CA and client certificate files). */
export async function buildBackendTls(server: ServerConfig): Promise<BackendTlsContext> {
  const ca = server.backend_tls_ca === null ? undefined : await readCa(server.backend_tls_ca);
  let cert: string | undefined;
  let key: string | undefined;
  if (server.backend_tls_certificate !== null && server.backend_tls_certificate_key !== null) {
    const [pair] = await loadTlsMaterialPairs(
      [server.backend_tls_certificate],
      [server.backend_tls_certificate_key],
      server.ssl_password_file,
      "backend_tls_certificate",
    );
    cert = pair.cert;
    key = pair.key;
  }
  const secureContext = tls.createSecureContext({ ca, cert, key, minVersion: "TLSv1.2" });
  const verify = server.backend_tls_verify;
  const name = server.backend_tls_name;
  return {
    handshake: (ip: string) => (socket) =>
      new Promise((resolve, reject) => {
        const expected = name ?? ip;
        const secure = tls.connect({
          socket,
          secureContext,
          // SNI carries host names only.
          servername: isIP(expected) ? undefined : expected,
          rejectUnauthorized: verify,
          checkServerIdentity: (_host, cert) => tls.checkServerIdentity(expected, cert),
        });
        const onError = (err: Error) => {
          done();
          secure.destroy();
          reject(err);
        };
        // The session's timer ends a stuck handshake by closing the socket: settle then too.
        const onClose = () => onError(new Error("connection closed during the TLS handshake"));
        const onSecure = () => {
          done();
          resolve(secure);
        };
        const done = () => {
          secure.off("error", onError);
          secure.off("close", onClose);
          socket.off("close", onClose);
          secure.off("secureConnect", onSecure);
        };
        secure.once("error", onError);
        secure.once("close", onClose);
        socket.once("close", onClose);
        secure.once("secureConnect", onSecure);
      }),
  };
}

async function readCa(file: string): Promise<string> {
  const { readFile } = await import("node:fs/promises");
  try {
    const text = await readFile(file, "utf8");
    if (!text.includes("-----BEGIN CERTIFICATE-----")) throw new Error("no PEM certificate in the file");
    return text;
  } catch (err) {
    throw new Error(`backend_tls_ca "${file}": ${err instanceof Error ? err.message : err}`);
  }
}
