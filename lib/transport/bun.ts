/**
 * Bun's native sockets (`Bun.listen` / `Bun.connect`) behind the {@link Conn} interface,
 * for plain TCP and UNIX connections on Bun. Connections that may become TLS, and
 * listeners with a `backlog`, use `node:net` (lib/transport/node_net.ts).
 *
 * Reads: the `data` handler queues chunks (each a Buffer of its own); `read()` takes them.
 * Back-pressure: the socket is paused (`socket.pause()`, no more reads from the kernel)
 * while {@link HIGH_WATER} bytes or more wait for the reader, and resumed once the reader
 * has taken them. Writes: `socket.write()` returns how many bytes the kernel took; the
 * rest waits for `drain`, and `write()` resolves once all of it went out, so the caller's
 * bytes are never kept after the promise resolved (no copy needed).
 * @module
 */

import type { Address, Conn, Listener, ListenOptions, ReadSizing, Transport } from "./types.ts";
import { drainAndClose, type GracefulCloseLimits } from "./graceful_close.ts";
import { nodeNetTransport } from "./node_net.ts";
import { concat } from "../util/bytes.ts";

/** Queued unread bytes at which the socket stops reading from the kernel. */
export const HIGH_WATER = 65536;

/** The parts of Bun's native socket used here (bun-types is not a dependency). */
interface BunSocket {
  data: BunConn;
  write(data: Uint8Array): number;
  shutdown(halfClose?: boolean): void;
  end(): void;
  terminate(): void;
  pause(): void;
  resume(): void;
  setNoDelay(on?: boolean): boolean;
  readonly remoteAddress: string;
  readonly remotePort?: number;
  readonly localAddress?: string;
  readonly localPort?: number;
}

interface BunServer {
  readonly hostname?: string;
  readonly port?: number;
  stop(closeActive?: boolean): void;
}

interface SocketHandlers {
  open?(socket: BunSocket): void;
  data(socket: BunSocket, data: Uint8Array): void;
  drain(socket: BunSocket): void;
  end(socket: BunSocket): void;
  close(socket: BunSocket, error?: Error): void;
  error(socket: BunSocket, error: Error): void;
  connectError?(socket: BunSocket, error: Error): void;
}

interface BunApi {
  listen(options: Record<string, unknown>): BunServer;
  connect(options: Record<string, unknown>): Promise<BunSocket>;
}

function bun(): BunApi {
  return (globalThis as unknown as { Bun: BunApi }).Bun;
}

function tcpAddress(host: string | undefined, port: number | undefined): Address {
  return { transport: "tcp", hostname: (host ?? "").replace(/^::ffff:(?=\d+\.)/, ""), port: port ?? 0 };
}

interface PendingWrite {
  data: Uint8Array;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** A Bun native socket as a {@link Conn}. */
export class BunConn implements Conn {
  remoteAddr: Address;
  readonly localAddr: Address;
  /** Each chunk of the `data` handler is a Buffer of its own. */
  readonly freshReads = true;
  readonly tlsSocket = null;
  #socket: BunSocket;
  #chunks: Uint8Array[] = [];
  #queued = 0;
  #paused = false;
  #ended = false;
  #error: Error | null = null;
  /** The pending `read()`, resolved straight from the handlers (no suspended async frame). */
  #reader: ((chunk: Uint8Array | null) => void) | null = null;
  /** Writes not yet taken by the kernel, in order; the first may be partly written. */
  #writes: PendingWrite[] = [];
  #gone = false;
  #closed = false;
  #writeShut = false;
  #shutAfterFlush = false;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(socket: BunSocket, unixPath?: string) {
    this.#socket = socket;
    socket.data = this;
    this.remoteAddr = unixPath !== undefined
      ? { transport: "unix", path: "" }
      : tcpAddress(socket.remoteAddress, socket.remotePort);
    this.localAddr = unixPath !== undefined
      ? { transport: "unix", path: unixPath }
      : tcpAddress(socket.localAddress, socket.localPort);
    if (unixPath === undefined) this.setNoDelay(true);
  }

  // --- handler side -------------------------------------------------------------------

  /** @internal */
  onData(data: Uint8Array): void {
    if (this.#closed) return;
    const reader = this.#reader;
    if (reader !== null && this.#chunks.length === 0) {
      this.#reader = null;
      return reader(data);
    }
    this.#chunks.push(data);
    this.#queued += data.length;
    if (this.#queued >= HIGH_WATER && !this.#paused) {
      this.#paused = true;
      this.#socket.pause();
    }
    this.#wake();
  }

  /** @internal */
  onEnd(): void {
    this.#ended = true;
    this.#wake();
  }

  /** @internal */
  onError(err: Error): void {
    this.#error ??= err;
    this.#wake();
  }

  /** @internal */
  onClose(err?: Error): void {
    if (err) this.#error ??= err;
    this.#gone = true;
    this.#ended = true;
    if (this.#closeTimer !== undefined) clearTimeout(this.#closeTimer);
    const writes = this.#writes;
    this.#writes = [];
    for (const w of writes) w.reject(new Error("connection closed"));
    this.#wake();
  }

  /** @internal */
  onDrain(): void {
    this.#flush();
  }

  /** Resolves a pending `read()` if there is something to return: queued bytes, or EOF. */
  #wake(): void {
    const reader = this.#reader;
    if (reader === null) return;
    if (this.#chunks.length > 0) {
      this.#reader = null;
      reader(this.#take());
    } else if (this.#ended || this.#error || this.#closed) {
      this.#reader = null;
      reader(null);
    }
  }

  /** Everything queued, as one chunk (one write downstream instead of several); resumes reading. */
  #take(): Uint8Array {
    const chunks = this.#chunks;
    const out = chunks.length === 1 ? chunks[0] : concat(chunks);
    this.#chunks = [];
    this.#queued = 0;
    if (this.#paused && !this.#gone) {
      this.#paused = false;
      this.#socket.resume();
    }
    return out;
  }

  // --- Conn ---------------------------------------------------------------------------

  unread(data: Uint8Array): void {
    if (data.length === 0) return;
    this.#chunks.unshift(data);
    this.#queued += data.length;
    this.#wake();
  }

  read(): Promise<Uint8Array | null> {
    if (this.#chunks.length > 0) return Promise.resolve(this.#take());
    if (this.#ended || this.#error || this.#closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.#reader = resolve;
    });
  }

  write(data: Uint8Array, _handOff = false): Promise<void> {
    if (this.#closed || this.#gone || this.#writeShut) return Promise.reject(new Error("connection closed"));
    if (this.#writes.length === 0) {
      const n = this.#socket.write(data);
      if (n === data.length) return Promise.resolve();
      if (n < 0) return Promise.reject(new Error("connection closed"));
      data = data.subarray(n);
    }
    // The caller keeps `data` unchanged until this resolves, i.e. until the kernel took it all.
    return new Promise((resolve, reject) => this.#writes.push({ data, resolve, reject }));
  }

  #flush(): void {
    const writes = this.#writes;
    while (writes.length > 0) {
      const w = writes[0];
      const n = this.#socket.write(w.data);
      if (n < 0) return;
      if (n < w.data.length) {
        w.data = w.data.subarray(n);
        return;
      }
      writes.shift();
      w.resolve();
    }
    if (this.#shutAfterFlush) this.#shutdownNow();
  }

  #shutdownNow(): void {
    this.#shutAfterFlush = false;
    if (this.#gone) return;
    if (this.#closed) {
      this.#socket.end();
    } else this.#socket.shutdown();
  }

  closeWrite(): Promise<void> {
    if (this.#writeShut || this.#gone) return Promise.resolve();
    this.#writeShut = true;
    if (this.#writes.length > 0) this.#shutAfterFlush = true;
    else this.#socket.shutdown();
    return Promise.resolve();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#chunks = [];
    this.#queued = 0;
    if (!this.#gone) {
      if (this.#writes.length > 0) {
        // Flush what write() accepted, then close; after 1 s for a peer that stopped reading.
        this.#shutAfterFlush = true;
        this.#closeTimer = setTimeout(() => {
          if (!this.#gone) this.#socket.terminate();
        }, 1000);
      } else this.#socket.end();
    }
    this.#wake();
  }

  closeGracefully(limits?: GracefulCloseLimits): Promise<void> {
    return drainAndClose(this, limits);
  }

  setReadSizing(_sizing: ReadSizing): void {
    // Bun sizes its own reads (up to 512 KiB); back-pressure comes from pausing the socket.
  }

  setNoDelay(on: boolean): void {
    try {
      this.#socket.setNoDelay(on);
    } catch {
      // UNIX sockets have no Nagle.
    }
  }
}

/** The handlers shared by every native socket; `socket.data` is its {@link BunConn}. */
const handlers: SocketHandlers = {
  data: (socket, data) => socket.data?.onData(data),
  drain: (socket) => socket.data?.onDrain(),
  end: (socket) => socket.data?.onEnd(),
  close: (socket, error) => socket.data?.onClose(error),
  error: (socket, error) => socket.data?.onError(error),
};

class BunListener implements Listener {
  readonly addr: Address;
  #server: BunServer | null = null;
  readonly #queue: BunConn[] = [];
  #waiter: ((c: BunConn | null) => void) | null = null;
  #closed = false;

  constructor(options: ListenOptions) {
    const unixPath = options.transport === "unix" ? options.path : undefined;
    const onOpen = (socket: BunSocket) => {
      const conn = new BunConn(socket, unixPath);
      if (this.#closed) return conn.close();
      if (this.#waiter) {
        const w = this.#waiter;
        this.#waiter = null;
        w(conn);
      } else this.#queue.push(conn);
    };
    const socket = { ...handlers, open: onOpen };
    const server = unixPath !== undefined
      ? bun().listen({ unix: unixPath, allowHalfOpen: true, socket })
      : bun().listen({
        hostname: options.hostname,
        port: options.port,
        // Bun sets SO_REUSEPORT only when asked (worker_processes > 1).
        reusePort: options.reusePort ?? false,
        exclusive: !options.reusePort,
        allowHalfOpen: true,
        socket,
      });
    this.#server = server;
    this.addr = unixPath !== undefined
      ? { transport: "unix", path: unixPath }
      : tcpAddress(server.hostname ?? options.hostname, server.port);
  }

  accept(): Promise<Conn | null> {
    const next = this.#queue.shift();
    if (next) return Promise.resolve(next);
    if (this.#closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // Open connections stay (as with node:net's server.close()).
    this.#server?.stop(false);
    for (const c of this.#queue.splice(0)) c.close();
    const w = this.#waiter;
    this.#waiter = null;
    w?.(null);
  }
}

/**
 * Bun's {@link Transport}: native sockets for plain listeners and plain backend connects,
 * `node:net` where a connection may become TLS or a listener has a backlog.
 */
export const bunTransport: Transport = {
  runtime: "bun",
  listen(options: ListenOptions): Promise<Listener> {
    if (options.upgradable || options.backlog !== undefined) return nodeNetTransport.listen(options);
    try {
      return Promise.resolve(new BunListener(options));
    } catch (err) {
      return Promise.reject(err);
    }
  },
  async connect(hostname, port, sizing, options): Promise<Conn> {
    if (options?.upgradable) return nodeNetTransport.connect(hostname, port, sizing, options);
    let conn: BunConn | null = null;
    const connecting = bun().connect({
      hostname,
      port,
      allowHalfOpen: true,
      socket: {
        ...handlers,
        // Data may arrive before connect() resolves; data handlers run after open.
        open: (s: BunSocket) => {
          conn = new BunConn(s);
        },
      },
    });
    let socket: BunSocket;
    try {
      socket = await connecting;
    } catch (err) {
      // The wording of node:net ("connect ECONNREFUSED 10.0.0.1:143"), which logs show.
      const code = (err as { code?: string }).code;
      throw code ? Object.assign(new Error(`connect ${code} ${hostname}:${port}`), { code }) : err;
    }
    return conn ?? new BunConn(socket);
  },
  async connectUnix(path: string): Promise<Conn> {
    let conn: BunConn | null = null;
    const socket = await bun().connect({
      unix: path,
      allowHalfOpen: true,
      socket: { ...handlers, open: (s: BunSocket) => void (conn = new BunConn(s, path)) },
    });
    const c: BunConn = conn ?? new BunConn(socket, path);
    // The constructor names sides as an accepted connection does; here the path is the peer's.
    c.remoteAddr = { transport: "unix", path };
    return c;
  },
};
