/**
 * Idle auth server connections kept for reuse (auth_http_keepalive).
 *
 * Each idle connection keeps one read pending: if the server closes it or sends
 * anything while it is idle (some servers announce "408 Request Timeout" before closing),
 * the read settles and the connection leaves the pool, so a stale byte is never taken
 * for the next reply. When a connection is taken, that pending read becomes the first
 * read of the reply.
 * @module
 */

import type { Conn } from "../transport/mod.ts";
import { unrefTimer } from "../util/timers.ts";

/** A connection taken from the pool, with the read that was pending while it idled. */
export interface IdleConn {
  conn: Conn;
  next: Promise<Uint8Array | null>;
}

interface Entry extends IdleConn {
  since: number;
  pooled: boolean;
}

/** LIFO pool: the most recently used connection is the least likely to have been closed. */
export class IdlePool {
  readonly #max: number;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  #entries: Entry[] = [];
  #sweep: ReturnType<typeof setInterval> | undefined;

  constructor(max: number, timeoutMs: number, now: () => number = Date.now) {
    this.#max = max;
    this.#timeoutMs = timeoutMs;
    this.#now = now;
  }

  /** How many connections are idle now. */
  get size(): number {
    return this.#entries.length;
  }

  /** The newest idle connection still within its timeout, or null. */
  take(): IdleConn | null {
    this.#expire();
    const entry = this.#entries.pop();
    if (!entry) return null;
    entry.pooled = false;
    return entry;
  }

  /** Keeps `conn` for reuse (closes it when the pool is full). */
  give(conn: Conn): void {
    if (this.#entries.length >= this.#max) {
      conn.close();
      return;
    }
    const entry: Entry = { conn, next: conn.read(), since: this.#now(), pooled: true };
    const drop = () => {
      if (!entry.pooled) return;
      entry.pooled = false;
      this.#entries = this.#entries.filter((e) => e !== entry);
      conn.close();
    };
    entry.next.then(drop, drop);
    this.#entries.push(entry);
    if (this.#sweep === undefined) {
      this.#sweep = setInterval(() => this.#expire(), Math.max(1000, this.#timeoutMs / 2));
      unrefTimer(this.#sweep);
    }
  }

  /** Closes every idle connection. */
  close(): void {
    for (const e of this.#entries) {
      e.pooled = false;
      e.conn.close();
    }
    this.#entries = [];
    this.#stopSweep();
  }

  #expire(): void {
    const now = this.#now();
    const keep: Entry[] = [];
    for (const e of this.#entries) {
      if (now - e.since < this.#timeoutMs) keep.push(e);
      else {
        e.pooled = false;
        e.conn.close();
      }
    }
    this.#entries = keep;
    if (keep.length === 0) this.#stopSweep();
  }

  #stopSweep(): void {
    if (this.#sweep !== undefined) clearInterval(this.#sweep);
    this.#sweep = undefined;
  }
}
