/**
 * One small interface over the runtime's sockets. Deno uses `Deno.listen` /
 * `Deno.connect`; Bun uses its `node:net` (native in Bun). Protocol code never
 * touches runtime APIs.
 * @module
 */

/** A socket endpoint. */
export type Address =
  | { transport: "tcp"; hostname: string; port: number }
  | { transport: "unix"; path: string };

/** A byte stream with back-pressure and half-close. */
export interface Conn {
  readonly remoteAddr: Address;
  readonly localAddr: Address;
  /**
   * Reads the next chunk, or null at EOF. The returned view may be reused by the
   * next `read()`: consume (or copy) it before reading again.
   */
  read(): Promise<Uint8Array | null>;
  /** Writes all of `data`; resolves when the runtime accepted it (back-pressure). */
  write(data: Uint8Array): Promise<void>;
  /** Half-close: no more writes; reading goes on. */
  closeWrite(): Promise<void>;
  /** Closes both directions; safe to call more than once. */
  close(): void;
  /** Disables Nagle (small replies leave at once). */
  setNoDelay(on: boolean): void;
  /** Sets the read buffer bounds (e.g. the protocol's client buffer once the protocol is known). */
  setReadSizing(sizing: ReadSizing): void;
}

/** Options of a listener. */
export interface ListenOptions {
  transport: "tcp" | "unix";
  hostname: string;
  port: number;
  path?: string;
  backlog?: number;
  reusePort?: boolean;
}

/** Accepts connections until closed. */
export interface Listener {
  readonly addr: Address;
  /** Resolves with the next connection, or null once the listener is closed. */
  accept(): Promise<Conn | null>;
  close(): void;
}

/** How reads size their buffers: start small for idle sessions, grow for bulk. */
export interface ReadSizing {
  /** First and minimum read size. */
  min: number;
  /** Largest read size (the configured buffer). */
  max: number;
}

/** What a runtime provides. */
export interface Transport {
  readonly runtime: "deno" | "bun";
  listen(options: ListenOptions): Promise<Listener>;
  connect(hostname: string, port: number, sizing?: ReadSizing): Promise<Conn>;
}
