/**
 * The last line mailproxy writes before it closes a connection itself (a refusal, a
 * goodbye): best effort and bounded in time, so a client that does not read cannot
 * hold the connection (and its slot, or the shutdown) open.
 * @module
 */

import type { Conn } from "../transport/mod.ts";
import { Deadline } from "../util/deadline.ts";

/** How long the last line may take to leave before the connection is closed anyway. */
export const LAST_LINE_WRITE_MS = 1000;

/** Writes `line` (best effort) and closes `conn` once it left or `boundMs` passed. Never rejects. */
export function sendLastLine(conn: Conn, line: string, boundMs = LAST_LINE_WRITE_MS): Promise<void> {
  return new Promise((resolve) => {
    const bound = new Deadline();
    const end = () => {
      bound.disarm();
      conn.close();
      resolve();
    };
    bound.arm(boundMs, end);
    try {
      conn.write(new TextEncoder().encode(line)).then(end, end);
    } catch {
      end();
    }
  });
}
