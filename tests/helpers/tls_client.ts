/**
 * A raw client that can switch to TLS mid-stream: plain transcripts, then STARTTLS
 * (or TLS from the first byte for `listen … ssl`), then more transcripts — for the
 * STARTTLS-injection and client-certificate tests.
 * @module
 */

import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import * as tls from "node:tls";

/** TLS options of a test client (file paths). */
export interface TlsClientOptions {
  ca?: string;
  cert?: string;
  key?: string;
  servername?: string;
  minVersion?: tls.SecureVersion;
  maxVersion?: tls.SecureVersion;
  ALPNProtocols?: string[];
  /** Extra bytes written in the same packet right after the PROXY header (or first). */
  proxyHeader?: Uint8Array;
}

/** A connected client (plain or TLS). */
export class TlsTestClient {
  #buffer = "";
  #closed = false;
  #waiters: (() => void)[] = [];
  #socket: Socket;

  private constructor(socket: Socket) {
    this.#socket = socket;
    this.#listen(socket);
  }

  #listen(socket: Socket): void {
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

  /** The socket (a TLSSocket after {@link startTls}). */
  get socket(): Socket {
    return this.#socket;
  }

  /** Opens a plain connection (optionally writing a PROXY header first). */
  static open(port: number, opts: { proxyHeader?: Uint8Array } = {}): Promise<TlsTestClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: "127.0.0.1", port });
      s.once("connect", () => {
        if (opts.proxyHeader) s.write(opts.proxyHeader);
        resolve(new TlsTestClient(s));
      });
      s.once("error", reject);
    });
  }

  /** Opens a TLS connection from the first byte (after an optional PROXY header). */
  static async openTls(port: number, opts: TlsClientOptions = {}): Promise<TlsTestClient> {
    const plain = await TlsTestClient.open(port, { proxyHeader: opts.proxyHeader });
    await plain.startTls(opts);
    return plain;
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Upgrades to TLS over the current socket; rejects with the handshake error. */
  startTls(opts: TlsClientOptions = {}): Promise<void> {
    const plain = this.#socket;
    plain.removeAllListeners("data");
    plain.removeAllListeners("close");
    plain.removeAllListeners("error");
    const read = (f?: string) => (f ? readFileSync(f) : undefined);
    return new Promise((resolve, reject) => {
      const secure = tls.connect({
        socket: plain,
        ca: read(opts.ca),
        cert: read(opts.cert),
        key: read(opts.key),
        servername: opts.servername ?? "localhost",
        minVersion: opts.minVersion,
        maxVersion: opts.maxVersion,
        ALPNProtocols: opts.ALPNProtocols,
      });
      secure.once("secureConnect", () => {
        this.#socket = secure;
        this.#listen(secure);
        resolve();
      });
      secure.once("error", (err) => {
        this.#closed = true;
        reject(err);
      });
    });
  }

  /** The TLS socket, once TLS. */
  get tls(): tls.TLSSocket {
    return this.#socket as tls.TLSSocket;
  }

  get closed(): boolean {
    return this.#closed;
  }

  send(text: string): void {
    this.#socket.write(new Uint8Array([...text].map((c) => c.charCodeAt(0))));
  }

  /** Reads until `done(received)`, close, or `quietMs` without data (max `maxMs`); consumes it. */
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

  /** Reads until a complete line starting with `prefix`. */
  readUntilLine(prefix: string, maxMs = 10_000): Promise<string> {
    return this.read((t) => t.split("\r\n").slice(0, -1).some((l) => l.startsWith(prefix)), maxMs, maxMs);
  }

  /** Waits for the peer to close (true) or `ms` (false). */
  async waitClosed(ms = 3000): Promise<boolean> {
    await this.read(() => false, ms, ms);
    return this.#closed;
  }

  close(): void {
    this.#socket.destroy();
  }
}

/** Log lines reach a test through a pipe: poll for one instead of racing it. */
export async function waitForLog(logs: () => string, re: RegExp, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!re.test(logs())) {
    if (Date.now() > deadline) throw new Error(`no log line matching ${re}:\n${logs().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
