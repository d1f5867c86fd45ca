/**
 * A raw client that can switch to TLS mid-stream: plain transcripts, then STARTTLS
 * (or TLS from the first byte for `listen … ssl`), then more transcripts — for the
 * STARTTLS-injection and client-certificate tests.
 * @module
 */

import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import * as tls from "node:tls";
import { ReplyReader } from "./reply_reader.ts";

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
export class TlsTestClient extends ReplyReader {
  #socket: Socket;

  private constructor(socket: Socket) {
    super();
    this.#socket = socket;
    this.attach(socket);
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
        this.attach(secure);
        resolve();
      });
      secure.once("error", (err) => {
        this.markClosed();
        reject(err);
      });
    });
  }

  /** The TLS socket, once TLS. */
  get tls(): tls.TLSSocket {
    return this.#socket as tls.TLSSocket;
  }

  send(text: string): void {
    this.#socket.write(new Uint8Array([...text].map((c) => c.charCodeAt(0))));
  }

  /** Waits for the peer to close (true) or `ms` (false). */
  override waitClosed(ms = 3000): Promise<boolean> {
    return super.waitClosed(ms);
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
