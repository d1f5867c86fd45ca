/**
 * The polite last line a session gets when mailproxy ends it (admin kick, shutdown
 * after `shutdown_timeout`).
 *
 * When it is safe to inject one:
 * - Before the relay (greeting, commands, auth, backend login) mailproxy owns the
 *   dialogue and the client is waiting for mailproxy, so every protocol gets its
 *   goodbye (its record's `goodbyeShutdown`/`goodbyeKick`, lib/protocols/<p>/lines.ts).
 * - During the relay mailproxy is a byte pipe and does not know where the backend's
 *   replies begin and end, so it injects nothing and just closes both sides: a `* BYE`
 *   could land inside a FETCH literal (and corrupt a cached message), a `-ERR` inside
 *   a multi-line RETR, and a `421` after the end of DATA would make a client that is
 *   still waiting for the backend's `250` believe the message was refused. A plain
 *   close is what the client also sees when a backend dies, which clients handle.
 * @module
 */

import type { ProtocolLines } from "../protocols/mod.ts";
import type { Conn } from "../transport/mod.ts";
import { sendLastLine } from "./last_line.ts";

/** Abort reason used when the process shuts down (the registry's killAll). */
export const SHUTDOWN_REASON = "shutting down";

/** The goodbye line of a protocol; `reason` is the abort reason (kick or shutdown). */
export function goodbyeLine(lines: ProtocolLines, reason: unknown): string {
  return reason === SHUTDOWN_REASON ? lines.goodbyeShutdown : lines.goodbyeKick;
}

/** Writes the goodbye (best effort, bounded in time) and closes the connection. Never rejects. */
export function sayGoodbye(client: Conn, lines: ProtocolLines, reason: unknown): Promise<void> {
  return sendLastLine(client, goodbyeLine(lines, reason));
}
