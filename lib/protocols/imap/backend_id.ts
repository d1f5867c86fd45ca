/**
 * The IMAP `ID` command (RFC 2971) mailproxy sends to a backend before logging the
 * user in when `imap_id = true`, so a backend without PROXY protocol support still
 * logs the real client. Dovecot takes `x-originating-ip`/`-port`, `x-connected-ip`/
 * `-port` and `x-session-id` from hosts in its `login_trusted_networks`, and only
 * before login (its login process handles them), which is why it goes first.
 * @module
 */

import type { ClientEndpoints } from "../common/backend_preamble.ts";

/** The facts the ID carries. */
export type ImapIdFacts = ClientEndpoints;

/** The tag of mailproxy's ID command, which the preamble waits for (backend_preamble.ts). */
export const ID_TAG = "mp1";

/** A safe IMAP quoted string: the values are addresses and ids, anything else is dropped. */
function quoted(value: string): string {
  return `"${value.replace(/[^A-Za-z0-9.:_\-]/g, "")}"`;
}

/** `mp1 ID ("x-originating-ip" "…" …)\r\n` */
export function imapIdCommand(facts: ImapIdFacts): Uint8Array {
  const pairs: [string, string][] = [
    ["x-originating-ip", facts.clientIp],
    ["x-originating-port", String(facts.clientPort)],
    ["x-connected-ip", facts.localIp],
    ["x-connected-port", String(facts.localPort)],
    ["x-session-id", facts.sessionId],
  ];
  const list = pairs.map(([k, v]) => `${quoted(k)} ${quoted(v)}`).join(" ");
  return new TextEncoder().encode(`${ID_TAG} ID (${list})\r\n`);
}
