/**
 * SMTP: the client-side front end, its command parser, the EHLO reply and the
 * backend dialogue (EHLO, XCLIENT, MAIL/RCPT or AUTH PLAIN).
 * @module
 */

export { SmtpFrontend } from "./frontend.ts";
export { SmtpBackendLogin, type SmtpSessionFacts } from "./backend_login.ts";
export { SMTP_INTERNAL_ERROR } from "./lines.ts";
export { smtpEhloReply, smtpGreeting } from "./capabilities.ts";
export { SmtpCommandParser, type SmtpParseEvent, type SmtpVerb } from "./parser.ts";
export { xclientLine, xtext } from "./xclient.ts";
