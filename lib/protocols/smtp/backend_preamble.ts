/**
 * SMTP's backend preamble (see ../common/backend_preamble.ts): `EHLO` then
 * `STARTTLS` when `backend_tls = "starttls"` (RFC 3207), nothing otherwise. A
 * multi-line reply is complete at its last line (`250 …`, not `250-…`).
 * @module
 */

import { type BackendPreamble, lastLine, scriptedPreamble } from "../common/backend_preamble.ts";

const STARTTLS = { send: "STARTTLS\r\n", accept: (line: string) => line.startsWith("220"), what: "STARTTLS" };

/** A reply is complete when its last line is not a continuation (`250-…`). */
const complete = (reply: Uint8Array) => !/^\d{3}-/.test(lastLine(reply));

/** The preamble of an SMTP session, or null when there is nothing to say before the login. */
export function smtpBackendPreamble(
  opts: { starttls: boolean; proxyBuffer: number; ehloName: string },
): BackendPreamble | null {
  const ehlo = {
    send: `EHLO ${opts.ehloName}\r\n`,
    accept: (line: string) => line.startsWith("250"),
    what: "EHLO",
  };
  return scriptedPreamble(opts.proxyBuffer, {
    complete,
    beforeTls: opts.starttls ? [ehlo, STARTTLS] : [],
    afterTls: [],
  });
}
