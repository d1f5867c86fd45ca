/**
 * A raw TCP client for transcripts: send exact bytes, read replies until a
 * condition or a quiet period. Used by side-by-side and hostile-input tests.
 * @module
 */

import { connect, type Socket } from "node:net";

/** A connected raw client. */
export class LineClient {
  #buffer = "";
  #closed = false;
  #waiters: (() => void)[] = [];

  private constructor(readonly socket: Socket) {
    socket.on("data", (d: Uint8Array) => {
      this.#buffer += new TextDecoder("latin1").decode(d);
      this.#wake();
    });
    socket.on("close", () => {
      this.#closed = true;
      this.#wake();
    });
    socket.on("error", () => {
      this.#closed = true;
      this.#wake();
    });
  }

  /** Connects to 127.0.0.1:port. */
  static open(port: number, host = "127.0.0.1"): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ host, port });
      s.once("connect", () => resolve(new LineClient(s)));
      s.once("error", reject);
    });
  }

  #wake(): void {
    const ws = this.#waiters;
    this.#waiters = [];
    for (const w of ws) w();
  }

  /** True once the peer closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Sends a string (latin1 bytes) as is. */
  send(text: string): void {
    this.socket.write(new Uint8Array([...text].map((c) => c.charCodeAt(0))));
  }

  /**
   * Waits until `done(received)` holds, the peer closes, or `quietMs` pass with no
   * new data (default 300 ms; up to `maxMs` in all). Returns and consumes what arrived.
   */
  async read(done: (text: string) => boolean = () => false, quietMs = 300, maxMs = 10_000): Promise<string> {
    const start = Date.now();
    while (!done(this.#buffer) && !this.#closed && Date.now() - start < maxMs) {
      const before = this.#buffer.length;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, quietMs);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
      if (this.#buffer.length === before && !this.#closed) break;
    }
    const out = this.#buffer;
    this.#buffer = "";
    return out;
  }

  /** Reads until a line starting with `prefix` has arrived (complete with CRLF). */
  readUntilLine(prefix: string, maxMs = 10_000): Promise<string> {
    return this.read((t) => t.split("\r\n").slice(0, -1).some((l) => l.startsWith(prefix)), maxMs, maxMs);
  }

  /** Waits for the peer to close (true) or `ms` to pass (false). */
  async waitClosed(ms = 2000): Promise<boolean> {
    await this.read(() => false, ms, ms);
    return this.#closed;
  }

  close(): void {
    this.socket.destroy();
  }
}
