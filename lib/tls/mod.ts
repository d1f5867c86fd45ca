/**
 * TLS for the session driver: what a server's listeners need (built from the config
 * at start and on every reload, so renewed certificate files apply to new sessions),
 * and the client handshake with nginx's client-certificate rules (spec §4.4).
 * @module
 */

import type { ClientTlsInfo } from "../auth/types.ts";
import type { ServerConfig } from "../config/types.ts";
import { buildRealIpTrust, type RealIpTrust } from "../proxy_protocol/trust.ts";
import type { ProxyTlsFacts } from "../proxy_protocol/writer.ts";
import type { Conn } from "../transport/types.ts";
import { TlsAcceptor } from "./acceptor.ts";
import { type BackendTlsContext, buildBackendTls } from "./backend.ts";
import { certAlgorithms, checkClientCert } from "./client_cert.ts";
import type { Crl } from "./crl.ts";
import { loadTlsMaterial } from "./material.ts";
import { usesClientTls } from "./support.ts";

export type { BackendTlsContext, BackendTlsMode } from "./backend.ts";
export { clientTlsProblems, usesClientTls } from "./support.ts";

/** One server's TLS, shared by the sessions its listeners accept while this config is current. */
export interface ServerTls {
  /** Client handshakes; null when the server has no `listen … ssl` and `starttls` is off. */
  acceptor: TlsAcceptor | null;
  /** Client CAs and CRLs for mailproxy's own checks (client_cert.ts). */
  clientTrust: { clientCa: string[]; crls: Crl[] };
  /** Handshakes towards backends (backend_tls, Auth-Backend-TLS). */
  backend: BackendTlsContext;
}

/** Reads the server's certificate files and builds its TLS contexts; throws one clear error. */
export async function prepareTls(server: ServerConfig): Promise<ServerTls> {
  const where = `[[server]] #${server.index + 1}`;
  try {
    let acceptor: TlsAcceptor | null = null;
    let clientTrust: ServerTls["clientTrust"] = { clientCa: [], crls: [] };
    if (usesClientTls(server)) {
      const material = await loadTlsMaterial(server);
      acceptor = new TlsAcceptor(server, material);
      clientTrust = { clientCa: material.clientCa, crls: material.crls };
    }
    return { acceptor, clientTrust, backend: await buildBackendTls(server) };
  } catch (err) {
    throw new Error(`${where}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

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

/** What sessions of one server need besides the config: TLS contexts and the PROXY trust list. */
export interface ServerSecurity {
  tls: ServerTls;
  /** Resolved `set_real_ip_from`; undefined when it is empty. */
  realIp?: RealIpTrust;
}

/** Builds a server's {@link ServerSecurity} (reads certificate files, resolves host names). */
export async function prepareServerSecurity(server: ServerConfig): Promise<ServerSecurity> {
  const tls = await prepareTls(server);
  if (server.set_real_ip_from.length === 0) return { tls };
  try {
    return { tls, realIp: await buildRealIpTrust(server.set_real_ip_from) };
  } catch (err) {
    throw new Error(`[[server]] #${server.index + 1}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * True when connections of this listen may become TLS: on Deno they must then be
 * accepted with node:net (see lib/transport/deno.ts).
 */
export function listenNeedsTls(server: ServerConfig, listen: { ssl: boolean }): boolean {
  return listen.ssl || server.starttls !== "off";
}
