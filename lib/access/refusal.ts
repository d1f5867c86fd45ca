/**
 * The polite last line a refused client gets before the connection closes, in
 * each protocol's own form, so mail clients show a reason instead of "connection
 * reset".
 *
 * - Access denied (`access` rules) is final: IMAP `* BYE`, POP3 `-ERR`, SMTP
 *   `554 5.7.1` (RFC 5321 §3.1: 554 instead of the greeting refuses the session).
 * - Too many connections is temporary: SMTP gets `421 4.7.0`, so a sending MTA
 *   queues and retries instead of bouncing the message as a 5xx would make it do.
 * @module
 */

import type { MailProtocol } from "../types.ts";
import type { LimitRefusal } from "./limits.ts";

/** Why a connection is refused before its greeting. */
export type RefusalReason = "access" | LimitRefusal;

const LINES: Record<MailProtocol, Record<"access" | "busy", string>> = {
  imap: { access: "* BYE Access denied\r\n", busy: "* BYE Too many connections, try again later\r\n" },
  pop3: { access: "-ERR Access denied\r\n", busy: "-ERR Too many connections, try again later\r\n" },
  smtp: {
    access: "554 5.7.1 Access denied\r\n",
    busy: "421 4.7.0 Too many connections, try again later\r\n",
  },
};

/** The refusal line (with CRLF) for `protocol`. */
export function refusalLine(protocol: MailProtocol, reason: RefusalReason): Uint8Array {
  return new TextEncoder().encode(LINES[protocol][reason === "access" ? "access" : "busy"]);
}
