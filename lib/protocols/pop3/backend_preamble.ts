/**
 * POP3's backend preamble (see ../common/backend_preamble.ts): `STLS` when
 * `backend_tls = "starttls"` (RFC 2595), nothing otherwise.
 * @module
 */

import { type BackendPreamble, scriptedPreamble } from "../common/backend_preamble.ts";

const STLS = { send: "STLS\r\n", accept: (line: string) => line.startsWith("+OK"), what: "STARTTLS" };

/** The preamble of a POP3 session, or null when there is nothing to say before the login. */
export function pop3BackendPreamble(
  opts: { starttls: boolean; proxyBuffer: number },
): BackendPreamble | null {
  return scriptedPreamble(opts.proxyBuffer, { beforeTls: opts.starttls ? [STLS] : [], afterTls: [] });
}
