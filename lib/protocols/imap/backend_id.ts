/**
 * The IMAP `ID` command (RFC 2971) mailproxy sends to a backend before logging the
 * user in when `imap_id = true`, so a backend without PROXY protocol support still
 * logs the real client. Dovecot takes `x-originating-ip`/`-port`, `x-connected-ip`/
 * `-port` and `x-session-id` from hosts in its `login_trusted_networks`, and only
 * before login (its login process handles them), which is why it goes first.
 * @module
 */

/** The facts the ID carries. */
export interface ImapIdFacts {
  /** The real client (after realip). */
  clientIp: string;
  clientPort: number;
  /** Where the client connected to (mailproxy's listen address). */
  localIp: string;
  localPort: number;
  sessionId: string;
}

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
  return new TextEncoder().encode(`mp1 ID (${list})\r\n`);
}
