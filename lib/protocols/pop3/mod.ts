/**
 * POP3: the client-side front end, its command parser, CAPA construction and the
 * backend login dialogue.
 * @module
 */

export { Pop3Frontend } from "./frontend.ts";
export { Pop3BackendLogin } from "./backend_login.ts";
export { pop3AuthMethodsReply, pop3CapaReply, pop3SaslMechanisms } from "./capabilities.ts";
export { Pop3CommandParser, type Pop3ParseEvent, type Pop3Verb } from "./parser.ts";
