/**
 * ManageSieve as the session driver sees it (see ../record.ts).
 * @module
 */

import type { ProtocolRecord } from "../record.ts";
import { sieveBackendPreamble } from "./backend_preamble.ts";
import { SieveFrontend } from "./frontend.ts";
import { SIEVE_LINES } from "./lines.ts";

/** The ManageSieve record. */
export const SIEVE: ProtocolRecord = {
  name: "sieve",
  lines: SIEVE_LINES,
  clientBufferSize: (server) => server.sieve_client_buffer,
  createFrontend: (server, ctx) => new SieveFrontend(server, ctx),
  backendPreamble: sieveBackendPreamble,
};
