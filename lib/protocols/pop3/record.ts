/**
 * POP3 as the session driver sees it (see ../record.ts).
 * @module
 */

import type { ProtocolRecord } from "../record.ts";
import { pop3BackendPreamble } from "./backend_preamble.ts";
import { Pop3Frontend } from "./frontend.ts";
import { POP3_LINES } from "./lines.ts";

/** The POP3 record. */
export const POP3: ProtocolRecord = {
  name: "pop3",
  lines: POP3_LINES,
  clientBufferSize: (server) => server.pop3_client_buffer,
  createFrontend: (server, ctx) => new Pop3Frontend(server, ctx),
  backendPreamble: pop3BackendPreamble,
};
