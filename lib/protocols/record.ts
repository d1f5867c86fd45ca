/**
 * One record per protocol, like nginx's `ngx_mail_protocol_t`: everything the
 * protocol-neutral session driver needs to know about a protocol, so that a
 * protocol's wire text and its backend dialogue live in its own folder and nowhere
 * else: its front end, its fixed lines (refusals, internal error, certificate errors,
 * goodbyes) and its backend preamble (STARTTLS, IMAP ID).
 * @module
 */

import type { ServerConfig } from "../config/mod.ts";
import type { MailProtocol } from "../types.ts";
import type { BackendPreamble, PreambleOptions } from "./common/backend_preamble.ts";
import type { Frontend, FrontendContext } from "./types.ts";

/** The fixed lines a protocol's clients get from mailproxy itself (each with CRLF). */
export interface ProtocolLines {
  /** nginx's internal-error line (auth service or backend failed). */
  readonly internalError: string;
  /** Refused by the `access` rules (final). */
  readonly accessDenied: string;
  /** Refused by max_connections / max_connections_per_ip (temporary). */
  readonly busy: string;
  /** The client certificate failed verification (spec §4.0.1). */
  readonly certError: string;
  /** `ssl_verify_client on` and no certificate (spec §4.0.1). */
  readonly certMissing: string;
  /** Ended before the relay by the process shutting down. */
  readonly goodbyeShutdown: string;
  /** Ended before the relay by an admin kick. */
  readonly goodbyeKick: string;
  /**
   * mailproxy only: no server of an upstream could take the login (temporary; IMAP
   * `NO [UNAVAILABLE]`, POP3 `-ERR [SYS/TEMP]`, SMTP `451 4.3.0`). IMAP's is the text of
   * a tagged reply: the front end puts the login command's tag before it
   * (`Frontend.unavailable()`).
   */
  readonly unavailable: string;
  /**
   * mailproxy only: `[login_limits]` blocks this client network or user for now
   * (temporary, never permanent-sounding: IMAP `NO [UNAVAILABLE]`, POP3 `-ERR [SYS/TEMP]`,
   * SMTP `454 4.7.0`, ManageSieve `NO (TRYLATER)`). IMAP's is tagged by the front end.
   */
  readonly loginBlocked: string;
}

/** A protocol as the session driver sees it. */
export interface ProtocolRecord {
  readonly name: MailProtocol;
  readonly lines: ProtocolLines;
  /** The client → backend buffer (imap/pop3/smtp/sieve_client_buffer). */
  clientBufferSize(server: ServerConfig): number;
  /** The client-side state machine of one session (reads only its protocol's settings). */
  createFrontend(server: ServerConfig, ctx: FrontendContext): Frontend;
  /** What to say to the backend before the login dialogue; null when nothing. */
  backendPreamble(opts: PreambleOptions): BackendPreamble | null;
}
