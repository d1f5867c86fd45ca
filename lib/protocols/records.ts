/**
 * The protocols mailproxy speaks, by name.
 * @module
 */

import type { MailProtocol } from "../types.ts";
import { IMAP } from "./imap/record.ts";
import { POP3 } from "./pop3/record.ts";
import type { ProtocolRecord } from "./record.ts";
import { SIEVE } from "./sieve/record.ts";
import { SMTP } from "./smtp/record.ts";

const RECORDS: Record<MailProtocol, ProtocolRecord> = { imap: IMAP, pop3: POP3, smtp: SMTP, sieve: SIEVE };

/** The record of `protocol`. */
export function protocolRecord(protocol: MailProtocol): ProtocolRecord {
  return RECORDS[protocol];
}
