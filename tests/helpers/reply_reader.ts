/**
 * What the raw test clients share: collect a socket's bytes as latin1 text and read
 * replies until a condition, a close, or a quiet period.
 * @module
 */

import type { Socket } from "node:net";

/** Buffers what a socket receives; subclasses own the socket. */
export class ReplyReader {
  #buffer = "";
  #closed = false;
  #waiters: (() => void)[] = [];

  /** Starts collecting from `socket` (again after a TLS upgrade). */
  protected attach(socket: Socket): void {
    socket.on("data", (d: Uint8Array) => {
      this.#buffer += new TextDecoder("latin1").decode(d);
      this.#wake();
    });
    socket.on("close", () => this.markClosed());
    socket.on("error", () => this.markClosed());
  }

  /** Records that the connection is gone and wakes readers. */
  protected markClosed(): void {
    this.#closed = true;
    this.#wake();
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** True once the peer closed. */
  get closed(): boolean {
    return this.#closed;
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
}
