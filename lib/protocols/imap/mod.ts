/**
 * IMAP: the client-side front end, its command parser, CAPABILITY construction and
 * the backend login dialogue.
 * @module
 */

export { ImapFrontend } from "./frontend.ts";
export { ImapBackendLogin } from "./backend_login.ts";
export { imapAuthEnabled, imapAuthTokens, imapCapabilityLine } from "./capabilities.ts";
export { ImapCommandParser, type ImapParseEvent, type ImapVerb } from "./parser.ts";
