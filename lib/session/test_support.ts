/**
 * Scripted fakes for the session driver's unit tests: a {@link Conn} without sockets
 * (bytes in by script, bytes out recorded), a {@link Transport} whose connects are
 * scripted, and an auth provider answering from a list.
 * @module
 */

import type { AuthProvider, AuthRequest, AuthResult } from "../auth/types.ts";
import type { Address, Conn, Listener, ReadSizing, Transport } from "../transport/types.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A connection driven by the test: `feed` what the peer says, read what the session wrote. */
export class FakeConn implements Conn {
  remoteAddr: Address;
  readonly localAddr: Address;
  readonly freshReads = true;
  readonly tlsSocket = null;
  /** Everything written to this connection, decoded. */
  written = "";
  closed = false;
  writeClosed = false;
  #inbox: (Uint8Array | null)[] = [];
  #reader: ((data: Uint8Array | null) => void) | null = null;
  #watchers: (() => void)[] = [];

  constructor(remote = "192.0.2.7", local = "127.0.0.1", localPort = 143) {
    this.remoteAddr = { transport: "tcp", hostname: remote, port: 40000 };
    this.localAddr = { transport: "tcp", hostname: local, port: localPort };
  }

  /** The peer sends `text`. */
  feed(text: string): void {
    this.#deliver(enc.encode(text));
  }

  /** The peer closes its side (the session's next read gets EOF). */
  end(): void {
    this.#deliver(null);
  }

  /** Resolves once the session wrote something matching `pattern` (or closed: then rejects). */
  waitFor(pattern: RegExp): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = pattern.exec(this.written);
        if (m) return resolve(m[0]), true;
        if (this.closed) {
          return reject(new Error(`closed without ${pattern}; written: ${JSON.stringify(this.written)}`)),
            true;
        }
        return false;
      };
      if (!check()) this.#watchers.push(() => void check());
    });
  }

  /** Resolves once the session closed this connection. */
  waitClosed(): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed) return resolve();
      this.#watchers.push(() => this.closed && resolve());
    });
  }

  read(): Promise<Uint8Array | null> {
    if (this.#inbox.length > 0) return Promise.resolve(this.#inbox.shift()!);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => (this.#reader = resolve));
  }

  write(data: Uint8Array): Promise<void> {
    if (this.closed || this.writeClosed) return Promise.reject(new Error("connection closed"));
    this.written += dec.decode(data);
    this.#notify();
    return Promise.resolve();
  }

  closeWrite(): Promise<void> {
    this.writeClosed = true;
    return Promise.resolve();
  }

  /** Graceful closes asked for (the session half-closes after a last line of its own). */
  gracefulCloses = 0;

  closeGracefully(): Promise<void> {
    this.gracefulCloses++;
    this.writeClosed = true;
    this.close();
    return Promise.resolve();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const reader = this.#reader;
    this.#reader = null;
    reader?.(null);
    this.#notify();
  }

  setNoDelay(_on: boolean): void {}
  setReadSizing(_sizing: ReadSizing): void {}
  unread(data: Uint8Array): void {
    this.#inbox.unshift(data);
  }

  #deliver(data: Uint8Array | null): void {
    if (this.closed) return;
    const reader = this.#reader;
    if (reader) {
      this.#reader = null;
      reader(data);
    } else this.#inbox.push(data);
  }

  #notify(): void {
    const watchers = this.#watchers;
    this.#watchers = [];
    for (const w of watchers) w();
  }
}

/** What a scripted connect does: hand over a backend, refuse, or never answer. */
export type ConnectScript = FakeConn | "refused" | "hang";

/** A transport whose connects follow a script, one entry per connect. */
export class FakeTransport implements Transport {
  readonly runtime = "deno" as const;
  /** `host:port` of every connect asked for. */
  readonly connects: string[] = [];
  readonly #script: ConnectScript[];

  constructor(...script: ConnectScript[]) {
    this.#script = script;
  }

  listen(): Promise<Listener> {
    return Promise.reject(new Error("no listening in session unit tests"));
  }

  connect(hostname: string, port: number): Promise<Conn> {
    this.connects.push(`${hostname}:${port}`);
    const next = this.#script.shift() ?? "refused";
    if (next === "refused") return Promise.reject(new Error("Connection refused"));
    if (next === "hang") return new Promise(() => {});
    return Promise.resolve(next);
  }

  connectUnix(path: string): Promise<Conn> {
    return Promise.reject(new Error(`no UNIX sockets in session unit tests (${path})`));
  }
}

/** An auth provider answering from a list (the last answer repeats); records requests. */
export class FakeAuth implements AuthProvider {
  readonly name = "fake";
  readonly requests: AuthRequest[] = [];
  readonly #answers: AuthResult[];

  constructor(...answers: AuthResult[]) {
    this.#answers = answers;
  }

  authenticate(request: AuthRequest): Promise<AuthResult> {
    this.requests.push(request);
    const answer = this.#answers.length > 1 ? this.#answers.shift()! : this.#answers[0];
    return Promise.resolve(answer);
  }
}
