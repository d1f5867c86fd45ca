/**
 * The polite last line a session gets when mailproxy ends it (admin kick, shutdown
 * after `shutdown_timeout`).
 *
 * When it is safe to inject one:
 * - Before the relay (greeting, commands, auth, backend login) mailproxy owns the
 *   dialogue and the client is waiting for mailproxy, so every protocol gets its
 *   goodbye: IMAP `* BYE` (an untagged response allowed at any time, RFC 9051 §7.1.5),
 *   POP3 `-ERR` (read as the reply to whatever the client sent or sends next),
 *   SMTP `421 4.3.2` (RFC 5321 §3.8: a server may send 421 at any time).
 * - During the relay mailproxy is a byte pipe and does not know where the backend's
 *   replies begin and end, so it injects nothing and just closes both sides: a `* BYE`
 *   could land inside a FETCH literal (and corrupt a cached message), a `-ERR` inside
 *   a multi-line RETR, and a `421` after the end of DATA would make a client that is
 *   still waiting for the backend's `250` believe the message was refused. A plain
 *   close is what the client also sees when a backend dies, which clients handle.
 * @module
 */

import type { MailProtocol } from "../types.ts";
import type { Conn } from "../transport/types.ts";

/** Abort reason used when the process shuts down (the registry's killAll). */
export const SHUTDOWN_REASON = "shutting down";

/** The goodbye line for a protocol; `reason` is the abort reason (kick or shutdown). */
export function goodbyeLine(protocol: MailProtocol, reason: unknown): Uint8Array {
  const shutdown = reason === SHUTDOWN_REASON;
  let line: string;
  switch (protocol) {
    case "imap":
      line = shutdown ? "* BYE Server shutting down\r\n" : "* BYE Session closed by administrator\r\n";
      break;
    case "pop3":
      line = shutdown ? "-ERR Server shutting down\r\n" : "-ERR Session closed by administrator\r\n";
      break;
    case "smtp":
      line = shutdown
        ? "421 4.3.2 Service shutting down, closing transmission channel\r\n"
        : "421 4.3.2 Session closed by administrator, closing transmission channel\r\n";
      break;
  }
  return new TextEncoder().encode(line);
}

/** How long a goodbye may take to leave before the connection is closed anyway. */
const GOODBYE_WRITE_MS = 1000;

/**
 * Writes the goodbye (best effort, bounded in time: a client that does not read
 * cannot hold the shutdown) and closes the connection. Never rejects.
 */
export function sayGoodbye(client: Conn, protocol: MailProtocol, reason: unknown): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, GOODBYE_WRITE_MS)));
  const written = client.write(goodbyeLine(protocol, reason)).then(() => {}, () => {});
  return Promise.race([written, timeout]).then(() => {
    clearTimeout(timer);
    client.close();
  });
}
