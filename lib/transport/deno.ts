/**
 * The Deno transport: `Deno.listen` / `Deno.connect` with a plain read/write loop,
 * measured fastest and leanest on Deno 2.9 (see docs/benchmarks.md).
 * @module
 */

import type {
  Address,
  Conn,
  ConnectOptions,
  Listener,
  ListenOptions,
  ReadSizing,
  Transport,
} from "./types.ts";
import { nodeNetTransport } from "./node_net.ts";
import { drainAndClose, type GracefulCloseLimits } from "./graceful_close.ts";
import { ReadBuffer } from "./read_buffer.ts";

function toAddress(addr: Deno.Addr): Address {
  if (addr.transport === "unix" || addr.transport === "unixpacket") {
    return { transport: "unix", path: addr.path };
  }
  if (addr.transport === "tcp" || addr.transport === "udp") {
    return { transport: "tcp", hostname: addr.hostname, port: addr.port };
  }
  return { transport: "unix", path: "" };
}

/** A `Deno.Conn` behind the {@link Conn} interface. */
export class DenoConn implements Conn {
  remoteAddr: Address;
  /** Never TLS: connections that may become TLS are `node:net` ones (see {@link denoTransport}). */
  readonly tlsSocket = null;
  /** Reads share the {@link ReadBuffer}: a chunk is valid until the next read. */
  readonly freshReads = false;
  readonly localAddr: Address;
  readonly #conn: Deno.Conn;
  #reader: ReadBuffer;
  #closed = false;
  #unread: Uint8Array | null = null;
  #noDelay = false;

  constructor(conn: Deno.Conn, sizing?: ReadSizing) {
    this.#conn = conn;
    this.#reader = new ReadBuffer(sizing);
    this.remoteAddr = toAddress(conn.remoteAddr);
    this.localAddr = toAddress(conn.localAddr);
    // Every TCP socket, from the first byte (greetings, refusals, the relay): small
    // replies and the tail of a bulk transfer must not wait for delayed ACKs.
    if (this.remoteAddr.transport === "tcp") this.setNoDelay(true);
  }

  /** Size of the buffer the next read uses (what a pending read pins). */
  get readBufferSize(): number {
    return this.#reader.size;
  }

  /**
   * Not an async function: an idle session keeps a read pending for hours, and a suspended
   * async frame per pending read (generator, registers, promise reactions) was measurable
   * per idle session. Two callbacks per connection instead.
   */
  read(): Promise<Uint8Array | null> {
    if (this.#closed) return Promise.resolve(null);
    if (this.#unread) {
      const data = this.#unread;
      this.#unread = null;
      return Promise.resolve(data);
    }
    return this.#conn.read(this.#reader.buffer).then(this.#filled, this.#failed);
  }

  readonly #filled = (n: number | null): Uint8Array | null => n === null ? null : this.#reader.filled(n);

  readonly #failed = (err: unknown): null => {
    if (this.#closed || isDisconnect(err)) return null;
    throw err;
  };

  /** Never copies: Deno's write op reads `data` before it resolves. */
  async write(data: Uint8Array, _handOff?: boolean): Promise<void> {
    let at = 0;
    while (at < data.length) {
      at += await this.#conn.write(at === 0 ? data : data.subarray(at));
    }
  }

  async closeWrite(): Promise<void> {
    try {
      await this.#conn.closeWrite();
    } catch {
      // Already closed or not connected: nothing left to half-close.
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Closing twice or after a reset is harmless.
    }
  }

  closeGracefully(limits?: GracefulCloseLimits): Promise<void> {
    return drainAndClose(this, limits);
  }

  unread(data: Uint8Array): void {
    if (data.length === 0) return;
    // Copied: the caller's view may live in the read buffer that the next read reuses.
    const copy = new Uint8Array(data.length + (this.#unread?.length ?? 0));
    copy.set(data);
    if (this.#unread) copy.set(this.#unread, data.length);
    this.#unread = copy;
  }

  setReadSizing(sizing: ReadSizing): void {
    this.#reader = new ReadBuffer(sizing);
  }

  setNoDelay(on: boolean): void {
    if (on === this.#noDelay) return;
    try {
      (this.#conn as Deno.TcpConn).setNoDelay?.(on);
      this.#noDelay = on;
    } catch {
      // UNIX sockets have no Nagle.
    }
  }
}

function isDisconnect(err: unknown): boolean {
  return err instanceof Deno.errors.ConnectionReset || err instanceof Deno.errors.BrokenPipe ||
    err instanceof Deno.errors.Interrupted || err instanceof Deno.errors.BadResource ||
    err instanceof Deno.errors.NotConnected || err instanceof Deno.errors.ConnectionAborted;
}

class DenoListener implements Listener {
  readonly addr: Address;
  readonly #listener: Deno.Listener;
  #closed = false;

  constructor(listener: Deno.Listener) {
    this.#listener = listener;
    this.addr = toAddress(listener.addr);
  }

  async accept(): Promise<Conn | null> {
    while (!this.#closed) {
      try {
        const conn = await this.#listener.accept();
        return new DenoConn(conn);
      } catch (err) {
        if (this.#closed || err instanceof Deno.errors.BadResource) return null;
        // EMFILE and friends: back off briefly instead of spinning or dying.
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    return null;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
  }
}

/**
 * Deno's {@link Transport}.
 *
 * Connections that may become TLS (`listen … ssl`, `starttls`, backend TLS) use
 * `node:net` instead: Deno has no server-side `startTls`, and `Deno.listenTls` can
 * neither verify client certificates nor report the protocol and cipher nginx sends as
 * Auth-SSL-Protocol/Cipher, nor honour several certificates, SNI or ssl_protocols.
 * `node:tls` does all that on a `node:net` socket. Measured on Deno 2.9 (docs/tls.md):
 * node:net + node:tls vs a Deno.Conn wrapped in a node Duplex for node:tls: the same
 * TLS throughput within noise (~150–300 MB/s here), but ~40 kB vs ~65 kB per idle TLS
 * session and 59 MB vs 151 MB RSS under bulk transfer; so node:net it is. Plain
 * listeners keep the faster `Deno.listen` path.
 */
export const denoTransport: Transport = {
  runtime: "deno",
  listen(options: ListenOptions): Promise<Listener> {
    if (options.upgradable) return nodeNetTransport.listen(options);
    if (options.transport === "unix") {
      return Promise.resolve(new DenoListener(Deno.listen({ transport: "unix", path: options.path! })));
    }
    return Promise.resolve(
      new DenoListener(
        Deno.listen({ hostname: options.hostname, port: options.port, reusePort: options.reusePort }),
      ),
    );
  },
  async connect(
    hostname: string,
    port: number,
    sizing?: ReadSizing,
    options?: ConnectOptions,
  ): Promise<Conn> {
    if (options?.upgradable) return nodeNetTransport.connect(hostname, port, sizing, options);
    const conn = await Deno.connect({ hostname, port });
    return new DenoConn(conn, sizing);
  },
  async connectUnix(path: string, sizing?: ReadSizing): Promise<Conn> {
    return new DenoConn(await Deno.connect({ transport: "unix", path }), sizing);
  },
};
