/**
 * The protocols mailproxy speaks, behind one factory.
 * @module
 */

import type { ServerConfig } from "../config/types.ts";
import type { Frontend, FrontendContext } from "./types.ts";
import { ImapFrontend } from "./imap/frontend.ts";
import { SmtpFrontend } from "./smtp/frontend.ts";
import { Pop3Frontend } from "./pop3/frontend.ts";

export type {
  BackendLogin,
  BackendStep,
  Frontend,
  FrontendContext,
  FrontendStep,
  PreGreeting,
} from "./types.ts";

/** Creates the client-side state machine of the server's protocol. */
export function createFrontend(server: ServerConfig, ctx: FrontendContext): Frontend {
  switch (server.protocol) {
    case "imap":
      return new ImapFrontend(server, ctx);
    case "pop3":
      return new Pop3Frontend(server, ctx);
    case "smtp":
      return new SmtpFrontend(server, ctx);
    default:
      throw new Error(`protocol ${server.protocol} is not implemented yet`);
  }
}

/** The client → backend buffer of the server's protocol (imap/pop3/smtp_client_buffer). */
export function clientBufferSize(server: ServerConfig): number {
  switch (server.protocol) {
    case "imap":
      return server.imap_client_buffer;
    case "pop3":
      return server.pop3_client_buffer;
    case "smtp":
      return server.smtp_client_buffer;
  }
}

/** Protocols whose front end exists in this build. */
export const IMPLEMENTED_PROTOCOLS: readonly string[] = ["imap", "pop3", "smtp"];
