/**
 * A polite end of a connection after the proxy's own last line (a failed login, LOGOUT,
 * QUIT, max_errors): half-close, drain what the client still sends, then close.
 *
 * Why: closing a socket whose receive queue holds unread bytes makes the kernel send an
 * RST instead of a FIN, and so does any segment that arrives after the close. A client
 * that answers the failure line with a polite QUIT/LOGOUT therefore often got a reset
 * (issue #18: 41 of 50 POP3 and 16 of 50 IMAP tries on Deno), and a reset can make the
 * client's stack discard the unread failure line (Windows does). With the write side
 * shut first, the client reads our FIN, sends what it wanted to send, closes, and we read
 * its FIN before closing: no RST. Both bounds keep a client that never closes (or keeps
 * sending) from holding the connection: after {@link GracefulCloseLimits.timeoutMs} or
 * {@link GracefulCloseLimits.maxBytes} the connection is closed as before.
 * @module
 */

/** The bounds of the drain. */
export interface GracefulCloseLimits {
  /** Longest wait for the client's EOF after our half-close. */
  timeoutMs: number;
  /** Most bytes read (and discarded) while waiting. */
  maxBytes: number;
}

/** 2 s and 64 KiB: room for a QUIT or a pipelined burst, short enough not to matter under load. */
export const GRACEFUL_CLOSE_LIMITS: GracefulCloseLimits = { timeoutMs: 2000, maxBytes: 65536 };

/** The parts of a `Conn` a graceful close uses (each transport passes itself). */
export interface Drainable {
  closeWrite(): Promise<void>;
  read(): Promise<Uint8Array | null>;
  close(): void;
}

/**
 * Half-closes `conn`, reads and discards until EOF (or a bound), then closes it. Never
 * throws; safe on a connection that is already closed (its reads return null at once).
 */
export async function drainAndClose(
  conn: Drainable,
  limits: GracefulCloseLimits = GRACEFUL_CLOSE_LIMITS,
): Promise<void> {
  // close() ends a pending read (it resolves null), which ends the loop below.
  const timer = setTimeout(() => conn.close(), limits.timeoutMs);
  try {
    await conn.closeWrite();
    let drained = 0;
    while (drained < limits.maxBytes) {
      const chunk = await conn.read();
      if (chunk === null) break;
      drained += chunk.length;
    }
  } catch {
    // A reset or a closed socket: nothing left to be polite to.
  } finally {
    clearTimeout(timer);
    conn.close();
  }
}
