/**
 * A buffered line/literal reader over a raw `Deno.Conn` for the load generator: no streams, no
 * per-chunk allocation, byte counting for throughput. Lines are latin1 strings with their CRLF.
 * @module
 */

const encoder = new TextEncoder();

/** Bytes received by every {@link Wire} of this process (throughput is counted here). */
export const received = { bytes: 0 };

/** One client connection of the load generator. */
export class Wire {
  #buf: Uint8Array;
  #start = 0;
  #end = 0;

  constructor(readonly conn: Deno.Conn, bufferSize = 16 * 1024) {
    this.#buf = new Uint8Array(bufferSize);
  }

  /** Reads more bytes into the buffer; false at EOF. */
  async #fill(): Promise<boolean> {
    if (this.#start === this.#end) this.#start = this.#end = 0;
    else if (this.#end === this.#buf.length) {
      if (this.#start > 0) {
        this.#buf.copyWithin(0, this.#start, this.#end);
        this.#end -= this.#start;
        this.#start = 0;
      } else {
        const bigger = new Uint8Array(this.#buf.length * 2);
        bigger.set(this.#buf);
        this.#buf = bigger;
      }
    }
    const n = await this.conn.read(this.#buf.subarray(this.#end));
    if (n === null) return false;
    this.#end += n;
    received.bytes += n;
    return true;
  }

  /** The next line including CRLF; throws at EOF. */
  async line(): Promise<string> {
    while (true) {
      const at = this.#buf.indexOf(10, this.#start);
      if (at >= 0 && at < this.#end) {
        const text = latin1(this.#buf, this.#start, at + 1);
        this.#start = at + 1;
        return text;
      }
      if (!(await this.#fill())) throw new Error("connection closed by server");
    }
  }

  /** Consumes `n` bytes without keeping them (a FETCH literal). */
  async skip(n: number): Promise<void> {
    while (n > 0) {
      if (this.#start === this.#end && !(await this.#fill())) throw new Error("EOF inside a literal");
      const take = Math.min(n, this.#end - this.#start);
      this.#start += take;
      n -= take;
    }
  }

  /** Writes all of `text` (ASCII) or bytes. */
  async send(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    let at = 0;
    while (at < bytes.length) at += await this.conn.write(at === 0 ? bytes : bytes.subarray(at));
  }

  /** IMAP: reads until the line tagged `tag`, skipping literals; returns that line. */
  async tagged(tag: string): Promise<string> {
    const prefix = `${tag} `;
    while (true) {
      const line = await this.line();
      const literal = /\{(\d+)\}\r\n$/.exec(line);
      if (literal) {
        await this.skip(Number(literal[1]));
        continue;
      }
      if (line.startsWith(prefix)) return line;
    }
  }

  /** SMTP: reads a (multi-line) reply and returns its last line. */
  async reply(): Promise<string> {
    while (true) {
      const line = await this.line();
      if (line.length < 4 || line[3] !== "-") return line;
    }
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // Already closed.
    }
  }
}

function latin1(buf: Uint8Array, from: number, to: number): string {
  let s = "";
  for (let i = from; i < to; i++) s += String.fromCharCode(buf[i]);
  return s;
}

/** Throws unless `line` starts with `want` (the reply shows in the error). */
export function expect(line: string, want: string, what: string): void {
  if (!line.startsWith(want)) throw new Error(`${what}: ${JSON.stringify(line.trimEnd().slice(0, 200))}`);
}
