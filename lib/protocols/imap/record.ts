/**
 * IMAP as the session driver sees it (see ../record.ts).
 * @module
 */

import type { ProtocolRecord } from "../record.ts";
import { imapBackendPreamble } from "./backend_preamble.ts";
import { ImapFrontend } from "./frontend.ts";
import { IMAP_LINES } from "./lines.ts";

/** The IMAP record. */
export const IMAP: ProtocolRecord = {
  name: "imap",
  lines: IMAP_LINES,
  clientBufferSize: (server) => server.imap_client_buffer,
  createFrontend: (server, ctx) => new ImapFrontend(server, ctx),
  backendPreamble: imapBackendPreamble,
};
