/**
 * SMTP as the session driver sees it (see ../record.ts).
 * @module
 */

import type { ProtocolRecord } from "../record.ts";
import { smtpBackendPreamble } from "./backend_preamble.ts";
import { SmtpFrontend } from "./frontend.ts";
import { SMTP_LINES } from "./lines.ts";

/** The SMTP record. */
export const SMTP: ProtocolRecord = {
  name: "smtp",
  lines: SMTP_LINES,
  clientBufferSize: (server) => server.smtp_client_buffer,
  createFrontend: (server, ctx) => new SmtpFrontend(server, ctx),
  backendPreamble: smtpBackendPreamble,
};
