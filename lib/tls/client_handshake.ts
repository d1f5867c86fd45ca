/**
 * The client TLS handshake (implicit TLS, or after the STARTTLS reply) with nginx's
 * client-certificate rules (spec §4.4).
 * @module
 */

import type { ClientTlsInfo } from "../types.ts";
import type { ServerConfig } from "../config/mod.ts";
import type { ProxyTlsFacts } from "../proxy_protocol/mod.ts";
import type { Conn } from "../transport/mod.ts";
import { certAlgorithms, checkClientCert } from "./client_cert.ts";
import type { ServerTls } from "./server_tls.ts";

/** The client's TLS state once the handshake passed. */
export interface ClientTls {
  /** Auth-SSL-* facts. */
  info: ClientTlsInfo;
  /** What a PROXY v2 header to the backend carries. */
  proxy: ProxyTlsFacts;
}

/** How a client handshake ended. */
export type ClientHandshakeResult =
  | { ok: true; tls: ClientTls }
  /**
   * Close. `certificate`: the client certificate was refused (`error`) or absent
   * (`missing`); the protocol's line for it goes out first over TLS (its record's
   * `certError`/`certMissing`).
   */
  | { ok: false; log: string; certificate?: "error" | "missing"; handshakeFailed: boolean };

/**
 * Upgrades `client` (implicit TLS or after the STARTTLS reply) and applies
 * `ssl_verify_client`. The caller's deadline bounds it by closing `client`.
 */
export async function clientHandshake(
  client: Conn,
  server: ServerConfig,
  tls: ServerTls,
): Promise<ClientHandshakeResult> {
  if (!tls.acceptor || !client.startTls) {
    return { ok: false, log: "TLS is not available on this connection", handshakeFailed: true };
  }
  try {
    await client.startTls(tls.acceptor.handshake);
  } catch (err) {
    return {
      ok: false,
      log: `TLS handshake failed: ${err instanceof Error ? err.message : String(err)}`,
      handshakeFailed: true,
    };
  }
  const socket = client.tlsSocket!;
  const verdict = checkClientCert(socket, server, tls.clientTrust);
  if (!verdict.ok) {
    return {
      ok: false,
      log: verdict.log,
      certificate: verdict.why,
      handshakeFailed: false,
    };
  }
  const { info, chain } = verdict;
  const servername = (socket as { servername?: unknown }).servername;
  const alpn = socket.alpnProtocol;
  const proxy: ProxyTlsFacts = {
    version: info.protocol,
    cipher: info.cipher,
    ...(typeof servername === "string" && servername ? { authority: servername } : {}),
    ...(typeof alpn === "string" && alpn ? { alpn } : {}),
  };
  if (chain.length > 0) proxy.cert = { ...certAlgorithms(chain[0]), verified: info.verify === "SUCCESS" };
  return { ok: true, tls: { info, proxy } };
}
