/**
 * The `node:net` transport, used on Bun (where `node:net` is implemented natively).
 * Incoming data is held one chunk at a time: the socket is paused until `read()`
 * takes the chunk, so a slow reader on the other side applies back-pressure.
 * @module
 */

import * as net from "node:net";
import type { TLSSocket } from "node:tls";
import type { Address, Conn, Listener, ListenOptions, ReadSizing, TlsHandshake, Transport } from "./types.ts";
import { drainAndClose, type GracefulCloseLimits } from "./graceful_close.ts";

function address(host: string | undefined, port: number | undefined, path?: string): Address {
  if (path !== undefined) return { transport: "unix", path };
  return { transport: "tcp", hostname: (host ?? "").replace(/^::ffff:(?=\d+\.)/, ""), port: port ?? 0 };
}

/** A `net.Socket` (or, after {@link NodeConn.startTls}, a `tls.TLSSocket`) behind the {@link Conn} interface. */
export class NodeConn implements Conn {
  remoteAddr: Address;
  readonly localAddr: Address;
  /** Each chunk is a Buffer of its own ('data' events never reuse one). */
  readonly freshReads = true;
  #socket: net.Socket;
  #tls: TLSSocket | null = null;
  #chunk: Uint8Array | null = null;
  #ended = false;
  #error: Error | null = null;
  #waiter: (() => void) | null = null;
  #closed = false;
  #noDelay = false;
  readonly #onData = (data: Uint8Array) => {
    this.#socket.pause();
    this.#chunk = this.#chunk ? concat2(this.#chunk, data) : data;
    this.#wake();
  };
  readonly #onEnd = () => {
    this.#ended = true;
    this.#wake();
  };
  readonly #onError = (err: Error) => {
    this.#error = err;
    this.#wake();
  };

  constructor(socket: net.Socket, unixPath?: string) {
    this.#socket = socket;
    this.remoteAddr = unixPath !== undefined
      ? { transport: "unix", path: "" }
      : address(socket.remoteAddress, socket.remotePort);
    this.localAddr = unixPath !== undefined
      ? { transport: "unix", path: unixPath }
      : address(socket.localAddress, socket.localPort);
    this.#attach(socket);
    // Listeners and connect() ask for noDelay too, but not every runtime's node:net
    // honours the option (Deno's): set it on the socket itself.
    if (unixPath === undefined) this.setNoDelay(true);
  }

  #attach(socket: net.Socket): void {
    socket.pause();
    socket.on("data", this.#onData);
    socket.on("end", this.#onEnd);
    socket.on("error", this.#onError);
    socket.on("close", this.#onEnd);
  }

  #detach(socket: net.Socket): void {
    socket.off("data", this.#onData);
    socket.off("end", this.#onEnd);
    socket.off("error", this.#onError);
    socket.off("close", this.#onEnd);
  }

  get tlsSocket(): TLSSocket | null {
    return this.#tls;
  }

  unread(data: Uint8Array): void {
    if (data.length > 0) this.#chunk = this.#chunk ? concat2(data, this.#chunk) : data;
  }

  async startTls(handshake: TlsHandshake): Promise<void> {
    if (this.#closed || this.#ended || this.#error) throw new Error("connection closed");
    const plain = this.#socket;
    this.#detach(plain);
    // Until the handshake ends, errors and close() still reach the plain socket.
    const onError = () => {};
    plain.on("error", onError);
    // Bytes read but not consumed belong to the TLS layer (node:tls reads a socket's
    // buffered data first). The front end already dropped what it had buffered.
    if (this.#chunk) plain.unshift(this.#chunk);
    this.#chunk = null;
    let secure: TLSSocket;
    try {
      secure = await handshake(plain);
    } catch (err) {
      // The plain socket now belongs to the failed TLS layer: nothing more can be read.
      this.#ended = true;
      plain.destroy();
      throw err;
    } finally {
      plain.off("error", onError);
    }
    if (this.#closed) {
      secure.destroy();
      throw new Error("connection closed");
    }
    this.#socket = secure;
    this.#tls = secure;
    this.#attach(secure);
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = null;
    w?.();
  }

  async read(): Promise<Uint8Array | null> {
    while (true) {
      if (this.#chunk) {
        const c = this.#chunk;
        this.#chunk = null;
        return c;
      }
      if (this.#ended || this.#error || this.#closed) return null;
      await new Promise<void>((resolve) => {
        this.#waiter = resolve;
        this.#socket.resume();
      });
    }
  }

  write(data: Uint8Array, handOff = false): Promise<void> {
    const socket = this.#socket;
    if (this.#closed || socket.destroyed) return Promise.reject(new Error("connection closed"));
    // The stream pattern node's own pipe() uses: resolve at once while the socket's buffer
    // is under its high-water mark, else on 'drain'. Node keeps a reference to what it has
    // not flushed yet, and a caller may reuse `data` once this resolves (a Deno reader's
    // buffer): copy unless the caller hands it off (the relay does for node:net chunks).
    if (socket.write(handOff ? data : data.slice())) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const drained = () => {
        socket.off("close", closed);
        resolve();
      };
      const closed = () => {
        socket.off("drain", drained);
        reject(new Error("connection closed"));
      };
      socket.once("drain", drained);
      socket.once("close", closed);
    });
  }

  closeWrite(): Promise<void> {
    if (!this.#socket.destroyed) this.#socket.end();
    return Promise.resolve();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const socket = this.#socket;
    if (!socket.destroyed && socket.writable && (this.#tls !== null || socket.writableLength > 0)) {
      // Flush what write() accepted, and, like nginx's SSL_shutdown, give a TLS peer its
      // close_notify so clients do not report a truncated session ("unexpected eof").
      // destroy() follows once flushed, or after 1 s for a peer that stopped reading.
      const timer = setTimeout(() => socket.destroy(), 1000);
      socket.once("close", () => clearTimeout(timer));
      socket.end(() => socket.destroy());
    } else socket.destroy();
    this.#wake();
  }

  closeGracefully(limits?: GracefulCloseLimits): Promise<void> {
    return drainAndClose(this, limits);
  }

  setReadSizing(_sizing: ReadSizing): void {
    // node:net sizes its own reads; back-pressure comes from pausing per chunk.
  }

  setNoDelay(on: boolean): void {
    if (on === this.#noDelay) return;
    try {
      this.#socket.setNoDelay(on);
      this.#noDelay = on;
    } catch {
      // UNIX sockets have no Nagle.
    }
  }
}

function concat2(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

class NodeListener implements Listener {
  readonly addr: Address;
  readonly #server: net.Server;
  readonly #queue: net.Socket[] = [];
  #waiter: ((s: net.Socket | null) => void) | null = null;
  #closed = false;
  readonly #unixPath?: string;

  constructor(server: net.Server, unixPath?: string) {
    this.#server = server;
    this.#unixPath = unixPath;
    const a = server.address();
    this.addr = unixPath !== undefined
      ? { transport: "unix", path: unixPath }
      : address(typeof a === "object" && a ? a.address : "", typeof a === "object" && a ? a.port : 0);
    server.on("connection", (socket: net.Socket) => {
      socket.pause();
      if (this.#waiter) {
        const w = this.#waiter;
        this.#waiter = null;
        w(socket);
      } else this.#queue.push(socket);
    });
  }

  accept(): Promise<Conn | null> {
    const next = this.#queue.shift();
    if (next) return Promise.resolve(new NodeConn(next, this.#unixPath));
    if (this.#closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.#waiter = (s) => resolve(s ? new NodeConn(s, this.#unixPath) : null);
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#server.close();
    const w = this.#waiter;
    this.#waiter = null;
    w?.(null);
  }
}

/** The `node:net` {@link Transport}. */
export const nodeNetTransport: Transport = {
  runtime: "bun",
  listen(options: ListenOptions): Promise<Listener> {
    return new Promise((resolve, reject) => {
      const server = net.createServer({ pauseOnConnect: true, noDelay: true, allowHalfOpen: true });
      server.once("error", reject);
      const onListening = () => {
        server.off("error", reject);
        resolve(new NodeListener(server, options.transport === "unix" ? options.path : undefined));
      };
      if (options.transport === "unix") {
        server.listen({ path: options.path, backlog: options.backlog }, onListening);
      } else {
        server.listen(
          {
            host: options.hostname,
            port: options.port,
            backlog: options.backlog ?? 511,
            exclusive: !options.reusePort,
            // Bun sets SO_REUSEPORT only when asked by name (worker_processes > 1).
            reusePort: options.reusePort,
          },
          onListening,
        );
      }
    });
  },
  connect(hostname: string, port: number, _sizing?: ReadSizing): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: hostname, port, noDelay: true, allowHalfOpen: true });
      socket.pause();
      socket.once("error", reject);
      socket.once("connect", () => {
        socket.off("error", reject);
        resolve(new NodeConn(socket));
      });
    });
  },
  connectUnix(path: string): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ path, allowHalfOpen: true });
      socket.pause();
      socket.once("error", reject);
      socket.once("connect", () => {
        socket.off("error", reject);
        const conn = new NodeConn(socket, path);
        conn.remoteAddr = { transport: "unix", path };
        resolve(conn);
      });
    });
  },
};
