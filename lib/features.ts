/**
 * What this build of mailproxy can do. Config validation refuses settings that
 * need a feature not listed here, so nothing configured is silently ignored.
 * @module
 */

import type { MailProtocol } from "./types.ts";

/** Protocols with a front end and backend login in this build. */
export const SUPPORTED_PROTOCOLS: readonly MailProtocol[] = ["imap", "pop3", "smtp", "sieve"];
