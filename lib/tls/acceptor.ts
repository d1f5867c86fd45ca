/**
 * Server-side TLS for one server's listeners: a `node:tls` Server that never listens.
 * Plain `node:net` sockets are handed to it with `emit("connection")` — right after
 * accept (after a PROXY header) for `listen … ssl`, or after the STARTTLS reply — and
 * it runs the handshake with the server's certificates, protocols, ciphers, ALPN and
 * client-certificate request. This is the one handshake path on Deno and Bun: it
 * reports `authorized`/`authorizationError` on both (a bare `new TLSSocket(socket,
 * { isServer })` does not verify client certificates on Deno), and `_parent` ties the
 * TLS socket back to the plain one on both.
 *
 * Built from the config each time listeners are (start, reload): renewed files apply
 * to new connections, running sessions keep the context they started with.
 * @module
 */

import { constants } from "node:crypto";
import type { Socket } from "node:net";
import * as tls from "node:tls";
import type { ServerConfig } from "../config/mod.ts";
import type { TlsHandshake } from "../transport/mod.ts";
import type { CertKeyPair, TlsMaterial } from "./material.ts";
import { protocolRange } from "../config/mod.ts";

interface Pending {
  resolve(socket: tls.TLSSocket): void;
  reject(err: Error): void;
}

/** Handshake errors carry the runtime's text; nothing secret is in them. */
export class TlsHandshakeError extends Error {}

/** Options shared by the default and the SNI contexts. */
function contextOptions(
  server: ServerConfig,
  material: TlsMaterial,
  pairs: CertKeyPair[],
): tls.SecureContextOptions {
  const range = protocolRange(server.ssl_protocols) ?? { min: "TLSv1.2", max: "TLSv1.3" };
  const opts: tls.SecureContextOptions = {
    cert: pairs.map((p) => p.cert),
    key: pairs.map((p) => p.key),
    minVersion: range.min as tls.SecureVersion,
    maxVersion: range.max as tls.SecureVersion,
    ciphers: server.ssl_ciphers,
    honorCipherOrder: server.ssl_prefer_server_ciphers,
    sessionTimeout: Math.max(1, Math.round(server.ssl_session_timeout / 1000)),
  };
  if (!server.ssl_session_tickets) opts.secureOptions = constants.SSL_OP_NO_TICKET;
  if (server.ssl_verify_client !== "off") {
    // Without a configured CA nothing may verify (optional_no_ca): the server's own leaf
    // is a trust anchor that signs no client certificate, unlike the default root store.
    opts.ca = material.clientCa.length > 0 ? material.clientCa : [pairs[0].leaf.toString()];
  }
  return opts;
}

/** True when `name` (lower case) is served by an SNI entry name (`*.example.org` = one label). */
export function sniMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith("*.")) {
    const dot = name.indexOf(".");
    return dot > 0 && name.slice(dot + 1) === pattern.slice(2);
  }
  return pattern === name;
}

/** Runs server handshakes for the listeners of one server. */
export class TlsAcceptor {
  readonly #server: tls.Server;
  readonly #pending = new Map<Socket, Pending>();

  constructor(server: ServerConfig, material: TlsMaterial) {
    const sni = material.sni.map((entry) => ({
      name: entry.name,
      context: tls.createSecureContext(contextOptions(server, material, entry.pairs)),
    }));
    const options: tls.TlsOptions = {
      ...contextOptions(server, material, material.pairs),
      requestCert: server.ssl_verify_client !== "off",
      // The verdict is mailproxy's (spec §4.4.3): nginx's replies, optional_no_ca, depth, CRLs.
      rejectUnauthorized: false,
      // nginx (since 1.21.4) refuses a client whose ALPN list lacks the protocol; no ALPN is fine.
      ALPNProtocols: [server.protocol],
    };
    if (sni.length > 0) {
      options.SNICallback = (servername, cb) => {
        const name = servername.toLowerCase();
        // Unknown names get the default certificates, as with nginx's default server.
        cb(null, sni.find((s) => sniMatches(s.name, name))?.context);
      };
    }
    this.#server = tls.createServer(options);
    this.#server.on("secureConnection", (socket: tls.TLSSocket) => {
      const parent = (socket as unknown as { _parent?: Socket })._parent;
      const pending = parent && this.#pending.get(parent);
      if (pending) pending.resolve(socket);
      else socket.destroy();
    });
    this.#server.on("tlsClientError", (err: Error, socket: tls.TLSSocket) => {
      const parent = (socket as unknown as { _parent?: Socket })._parent;
      const pending = parent && this.#pending.get(parent);
      pending?.reject(new TlsHandshakeError(err.message));
      socket.destroy();
    });
  }

  /** Handshakes over a plain socket; rejects on failure or when the socket closes first. */
  readonly handshake: TlsHandshake = (socket) =>
    new Promise((resolve, reject) => {
      // Listeners accept with allowHalfOpen (the relay forwards half-closes). On Deno 2.9 a
      // half-open socket handed to node:tls never reports a peer that closes before or during
      // the handshake (no 'close', no 'tlsClientError'): a TCP health check on an `ssl` port
      // then held its session until `timeout`. Off during the handshake, restored after.
      const halfOpen = socket.allowHalfOpen;
      socket.allowHalfOpen = false;
      const settle = () => {
        this.#pending.delete(socket);
        socket.off("close", onClose);
        socket.allowHalfOpen = halfOpen;
      };
      const onClose = () => {
        settle();
        reject(new TlsHandshakeError("connection closed during the TLS handshake"));
      };
      if (socket.destroyed) return reject(new TlsHandshakeError("connection closed"));
      socket.on("close", onClose);
      this.#pending.set(socket, {
        resolve: (s) => {
          settle();
          resolve(s);
        },
        reject: (err) => {
          settle();
          reject(err);
        },
      });
      this.#server.emit("connection", socket);
    });
}
