/**
 * One small interface over the runtime's sockets. Deno uses `Deno.listen` /
 * `Deno.connect`, Bun `Bun.listen` / `Bun.connect`; connections that may become TLS use
 * `node:net` on both. Protocol code never touches runtime APIs.
 * @module
 */

import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { GracefulCloseLimits } from "./graceful_close.ts";

/** A socket endpoint. */
export type Address =
  | { transport: "tcp"; hostname: string; port: number }
  | { transport: "unix"; path: string };

/** A byte stream with back-pressure and half-close. */
export interface Conn {
  /**
   * The client: the TCP peer, or once a trusted PROXY header was read (realip, spec
   * §2.2) the address it names. Everything after that (access rules, logs, Client-IP,
   * XCLIENT, DNS) sees the real client because it reads this field.
   */
  remoteAddr: Address;
  readonly localAddr: Address;
  /**
   * Reads the next chunk, or null at EOF. The returned view may be reused by the
   * next `read()`: consume (or copy) it before reading again.
   */
  read(): Promise<Uint8Array | null>;
  /**
   * True when every `read()` returns memory of its own that no later read touches
   * (`node:net`); false when reads share one buffer (the Deno reader).
   */
  readonly freshReads: boolean;
  /**
   * Writes all of `data`; resolves when the runtime accepted it (back-pressure). The
   * caller must not change `data` before that. `handOff`: the caller will not change it
   * afterwards either (a chunk from a {@link Conn.freshReads} connection), so a transport
   * that keeps unflushed data by reference may skip its copy.
   */
  write(data: Uint8Array, handOff?: boolean): Promise<void>;
  /** Half-close: no more writes; reading goes on. */
  closeWrite(): Promise<void>;
  /** Closes both directions; safe to call more than once. */
  close(): void;
  /**
   * Ends the connection politely after the last line was written: half-close, read and
   * discard what the peer still sends until its EOF (bounded in time and bytes), then
   * close, so a client's QUIT after a final reply draws no TCP reset
   * (lib/transport/graceful_close.ts). Resolves once closed; never rejects.
   */
  closeGracefully(limits?: GracefulCloseLimits): Promise<void>;
  /** Disables Nagle (small replies leave at once). */
  setNoDelay(on: boolean): void;
  /** Sets the read buffer bounds (e.g. the protocol's client buffer once the protocol is known). */
  setReadSizing(sizing: ReadSizing): void;
  /** Puts bytes back in front of the stream: the next `read()` returns them first (a PROXY header's tail). */
  unread(data: Uint8Array): void;
  /**
   * Upgrades the connection to TLS in place (STARTTLS, implicit TLS after a PROXY header):
   * the plain socket, with any bytes read but not yet consumed put back, goes to
   * `handshake`, and this Conn reads and writes the TLS socket it returns from then on.
   * Only `node:net` connections have it (see `ListenOptions.upgradable`).
   */
  startTls?(handshake: TlsHandshake): Promise<void>;
  /** The TLS socket once the connection is TLS; null for plain TCP. */
  readonly tlsSocket: TLSSocket | null;
}

/** Runs a TLS handshake over a plain socket (lib/tls builds these). */
export type TlsHandshake = (socket: Socket) => Promise<TLSSocket>;

/** Options of a listener. */
export interface ListenOptions {
  transport: "tcp" | "unix";
  hostname: string;
  port: number;
  path?: string;
  backlog?: number;
  reusePort?: boolean;
  /**
   * Connections may become TLS (`listen … ssl`, `starttls`): they must support
   * {@link Conn.startTls}. Deno then accepts with `node:net` instead of `Deno.listen`.
   */
  upgradable?: boolean;
}

/** Options of {@link Transport.connect}. */
export interface ConnectOptions {
  /** The connection may become TLS (backend TLS): it must support {@link Conn.startTls}. */
  upgradable?: boolean;
}

/** Accepts connections until closed. */
export interface Listener {
  readonly addr: Address;
  /** Resolves with the next connection, or null once the listener is closed. */
  accept(): Promise<Conn | null>;
  close(): void;
}

/**
 * How reads size their buffers (lib/transport/read_buffer.ts): small while idle, doubling
 * while reads come back full, back to small as soon as one does not. Only the Deno reader
 * uses it; `node:net` sizes its own reads.
 */
export interface ReadSizing {
  /** Size of idle reads (what a pending read pins), and the first read. */
  min: number;
  /** Largest read size under bulk transfer (see `relaySizing`). */
  max: number;
}

/** What a runtime provides. */
export interface Transport {
  readonly runtime: "deno" | "bun";
  listen(options: ListenOptions): Promise<Listener>;
  connect(hostname: string, port: number, sizing?: ReadSizing, options?: ConnectOptions): Promise<Conn>;
  /** Connects to a UNIX stream socket (`auth_http = "unix:/path:/uri"`); never TLS. */
  connectUnix(path: string, sizing?: ReadSizing): Promise<Conn>;
}
