/**
 * Helpers for the transport and relay tests: loopback pairs, reading to EOF, test data.
 * @module
 */

import { concat } from "../util/bytes.ts";
import type { Conn, ReadSizing, Transport } from "./types.ts";

/** A connected pair (a, b) over loopback through `t`: `a` connected (with `sizing`), `b` accepted. */
export async function pair(t: Transport, sizing?: ReadSizing): Promise<[Conn, Conn, () => void]> {
  const listener = await t.listen({ transport: "tcp", hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as { port: number }).port;
  const [a, b] = await Promise.all([t.connect("127.0.0.1", port, sizing), listener.accept()]);
  return [a, b!, () => listener.close()];
}

/** Everything `conn` delivers until EOF (chunks copied: a reader may reuse its buffer). */
export async function readAll(conn: Conn): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  while (true) {
    const chunk = await conn.read();
    if (chunk === null) break;
    parts.push(chunk.slice());
  }
  return concat(parts);
}

/** Reads until `n` bytes arrived; throws at an earlier EOF. */
export async function readExactly(conn: Conn, n: number): Promise<void> {
  let got = 0;
  while (got < n) {
    const chunk = await conn.read();
    if (chunk === null) throw new Error(`EOF after ${got} of ${n} bytes`);
    got += chunk.length;
  }
}

/** `size` pseudo-random bytes from `seed` (an LCG): different seeds, different data. */
export function pattern(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}
