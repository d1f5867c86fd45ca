/**
 * The fixed lines nginx sends when a client certificate is refused (spec §4.0.1),
 * written over the TLS connection just before it is closed.
 * @module
 */

import type { MailProtocol } from "../types.ts";

const LINES: Record<MailProtocol, { error: string; missing: string }> = {
  pop3: { error: "-ERR SSL certificate error\r\n", missing: "-ERR No required SSL certificate\r\n" },
  imap: { error: "* BYE SSL certificate error\r\n", missing: "* BYE No required SSL certificate\r\n" },
  smtp: {
    error: "421 4.7.1 SSL certificate error\r\n",
    missing: "421 4.7.1 No required SSL certificate\r\n",
  },
};

/** The line for a failed (`error`) or absent (`missing`) client certificate. */
export function certReply(protocol: MailProtocol, why: "error" | "missing"): Uint8Array {
  return new TextEncoder().encode(LINES[protocol][why]);
}
