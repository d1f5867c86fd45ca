/**
 * IMAP's backend preamble (see ../common/backend_preamble.ts): `STARTTLS` when
 * `backend_tls = "starttls"`, then the `ID` of `imap_id` (backend_id.ts). Each waits
 * for the tagged reply of mailproxy's own command; untagged lines before it are
 * skipped. Any tagged reply ends the ID exchange: ID is informational, a NO or BAD
 * is no reason to stop.
 * @module
 */

import { toBinary } from "../../util/bytes.ts";
import { type BackendPreamble, type ClientEndpoints, scriptedPreamble } from "../common/backend_preamble.ts";
import { ID_TAG, imapIdCommand } from "./backend_id.ts";

/** The tag of mailproxy's STARTTLS command. */
export const STARTTLS_TAG = "mp0";

const TAGGED_OK = new RegExp(`^${STARTTLS_TAG} OK\\b`, "i");

const STARTTLS = {
  send: `${STARTTLS_TAG} STARTTLS\r\n`,
  complete: (reply: Uint8Array) => hasTagged(reply, STARTTLS_TAG),
  accept: (line: string) => TAGGED_OK.test(line),
  what: "STARTTLS",
};

/** The preamble of an IMAP session, or null when there is nothing to say before the login. */
export function imapBackendPreamble(
  opts: { starttls: boolean; proxyBuffer: number; imapId: ClientEndpoints | null },
): BackendPreamble | null {
  const id = opts.imapId === null ? [] : [{
    send: imapIdCommand(opts.imapId),
    complete: (reply: Uint8Array) => hasTagged(reply, ID_TAG),
    accept: null,
    what: "ID",
  }];
  return scriptedPreamble(opts.proxyBuffer, { beforeTls: opts.starttls ? [STARTTLS] : [], afterTls: id });
}

/** True when a line of `reply` starts with `tag` and a space (the tagged reply has come). */
function hasTagged(reply: Uint8Array, tag: string): boolean {
  const text = toBinary(reply);
  return text.startsWith(tag + " ") || text.includes("\n" + tag + " ");
}
