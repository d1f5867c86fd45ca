/**
 * ManageSieve's backend preamble (see ../common/backend_preamble.ts): `STARTTLS` when
 * `backend_tls = "starttls"`. Once TLS is up the backend sends its capability list
 * again, ending in `OK` (RFC 5804 §2.2), unasked; mailproxy sends `NOOP` and reads up to
 * its `OK`, so both replies are consumed before the login machine starts (it gets the
 * first greeting replayed).
 * @module
 */

import { type BackendPreamble, scriptedPreamble } from "../common/backend_preamble.ts";
import { responseEnd } from "./parser.ts";

const OK = /^OK(?=$|[ (])/i;

/** True once the reply holds its `OK`/`NO`/`BYE` line. */
const oneResponse = (reply: Uint8Array) => responseEnd(reply) !== null;

/** True once the capability list after TLS and the NOOP reply have both come (or a refusal). */
function twoResponses(reply: Uint8Array): boolean {
  const first = responseEnd(reply);
  if (first === null) return false;
  if (first.kind !== "OK") return true;
  return responseEnd(reply.subarray(first.end)) !== null;
}

const STARTTLS = { send: "STARTTLS\r\n", accept: (line: string) => OK.test(line), what: "STARTTLS" };

const CAPABILITIES_AFTER_TLS = {
  send: "NOOP\r\n",
  complete: twoResponses,
  accept: (line: string) => OK.test(line),
  what: "capabilities after STARTTLS",
};

/** The preamble of a ManageSieve session, or null when there is nothing to say before the login. */
export function sieveBackendPreamble(
  opts: { starttls: boolean; proxyBuffer: number },
): BackendPreamble | null {
  if (!opts.starttls) return null;
  return scriptedPreamble(opts.proxyBuffer, {
    complete: oneResponse,
    beforeTls: [STARTTLS],
    afterTls: [CAPABILITIES_AFTER_TLS],
  });
}
