/**
 * The ground-floor vocabulary of mailproxy: the words every layer shares (which protocol,
 * which auth method, what a client logged in with, what is known of its TLS and PROXY
 * header). This module imports nothing, so any folder may import it without an arrow
 * running upward in the layering (docs/architecture.md).
 * @module
 */

/** Mail protocols mailproxy speaks. */
export type MailProtocol = "imap" | "pop3" | "smtp" | "sieve";

/** The Auth-Method values of the nginx auth_http protocol. */
export type AuthMethod = "plain" | "apop" | "cram-md5" | "external" | "none" | "oauthbearer" | "xoauth2";

/** Credentials gathered by a front end. Strings are binary strings (one char per byte). */
export interface Credentials {
  method: AuthMethod;
  user: string;
  pass: string;
  /** Salt shown to the client (apop / cram-md5), without CRLF. */
  salt?: string;
  /** SMTP `none`: HELO argument, MAIL and RCPT lines. */
  smtp?: { helo: string; from: string; to: string };
}

/** TLS facts about the client connection (Auth-SSL-* headers, spec §3.1). */
export interface ClientTlsInfo {
  protocol?: string;
  cipher?: string;
  verify?: string;
  subject?: string;
  issuer?: string;
  serial?: string;
  fingerprint?: string;
  certPem?: string;
}

/** Addresses learned from a PROXY protocol header (spec §2.1). */
export interface ProxyProtocolInfo {
  srcAddr: string;
  srcPort: number;
  dstAddr: string;
  dstPort: number;
}
