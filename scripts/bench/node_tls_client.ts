/**
 * A `node:tls` client connection for the load generator, for the resumed-IMAPS workload:
 * `Deno.startTls` builds a new rustls client config per connection and never offers a
 * session, while `node:tls` takes a saved session (`session` option) and reports new ones
 * (`session` event, which for TLS 1.3 carries the ticket). Each client loop keeps its own
 * {@link SessionSlot}, as a mail client reconnecting to its server does.
 * @module
 */

import { Buffer } from "node:buffer";
import * as net from "node:net";
import * as tls from "node:tls";
import type { WireConn } from "./wire.ts";

/** The session a client loop offers on its next connection (updated by every connection). */
export interface SessionSlot {
  session?: Buffer;
  /** Connections that resumed / did a full handshake (the generator reports both). */
  reused: number;
  full: number;
}

/** Connects with TLS over node:tls; `slot` set: offers its session and keeps the new one. */
export function connectNodeTls(host: string, port: number, slot?: SessionSlot): Promise<WireConn> {
  return new Promise((resolve, reject) => {
    // Nagle off on the TCP socket itself (as for the Deno clients): the LOGIN must not wait
    // for a delayed ACK.
    const tcp = net.connect({ host, port });
    tcp.setNoDelay(true);
    // No certificate verification: on Deno 2.9 a client with its own `ca` gets a fresh rustls
    // config per connection and never resumes (measured); the lab's server is ours anyway.
    // `host` and `port` also with `socket`: Deno keys its client session store by them.
    const socket = tls.connect({
      socket: tcp,
      host,
      port,
      rejectUnauthorized: false,
      session: slot?.session,
    });
    if (slot) socket.on("session", (session: Buffer) => (slot.session = session));
    socket.once("error", reject);
    socket.once("secureConnect", () => {
      socket.off("error", reject);
      if (slot) socket.isSessionReused() ? slot.reused++ : slot.full++;
      resolve(new NodeTlsConn(socket));
    });
  });
}

/** A TLSSocket as a {@link WireConn}: chunks queue until read, the socket pauses meanwhile. */
class NodeTlsConn implements WireConn {
  #chunks: Buffer[] = [];
  #ended = false;
  #waiter: (() => void) | null = null;

  constructor(readonly socket: tls.TLSSocket) {
    const wake = () => {
      const w = this.#waiter;
      this.#waiter = null;
      w?.();
    };
    socket.on("data", (chunk: Buffer) => {
      this.#chunks.push(chunk);
      socket.pause();
      wake();
    });
    const end = () => {
      this.#ended = true;
      wake();
    };
    socket.on("end", end);
    socket.on("close", end);
    socket.on("error", end);
  }

  async read(p: Uint8Array): Promise<number | null> {
    while (this.#chunks.length === 0) {
      if (this.#ended) return null;
      await new Promise<void>((resolve) => {
        this.#waiter = resolve;
        this.socket.resume();
      });
    }
    const chunk = this.#chunks[0];
    const n = Math.min(p.length, chunk.length);
    p.set(chunk.subarray(0, n));
    if (n === chunk.length) this.#chunks.shift();
    else this.#chunks[0] = chunk.subarray(n);
    return n;
  }

  write(p: Uint8Array): Promise<number> {
    return new Promise((resolve, reject) => {
      this.socket.write(p, (err) => (err ? reject(err) : resolve(p.length)));
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
