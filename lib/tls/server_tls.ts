/**
 * What a server's listeners need for TLS and PROXY trust, built from the config at start
 * and on every reload (so renewed certificate files apply to new sessions).
 * @module
 */

import { type ServerConfig, usesClientTls } from "../config/mod.ts";
import { buildRealIpTrust, type RealIpTrust } from "../proxy_protocol/mod.ts";
import { TlsAcceptor } from "./acceptor.ts";
import { type BackendTlsContext, buildBackendTls } from "./backend.ts";
import type { Crl } from "./crl.ts";
import { loadTlsMaterial } from "./material.ts";

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
