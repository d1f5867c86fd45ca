/**
 * Sans-I/O codec for nginx's auth_http protocol (docs/spec/nginx-mail.md §3): builds the
 * request bytes, parses the reply head incrementally and turns it into a decision. No sockets or
 * timers here; {@link HttpAuthProvider} drives it.
 * @module
 */

import { isIPv6 } from "node:net";
import type { AuthFail, AuthOk, AuthRequest, AuthResult, CacheHint } from "./types.ts";
import type { MailProtocol } from "../types.ts";
import type { AuthHttpUrl } from "../config/mod.ts";
import { fromBinary, toBinary, utf8 } from "../util/bytes.ts";

/** nginx reads the reply head into one 1024-byte buffer (spec §3.3, §6.1). */
export const AUTH_REPLY_HEAD_LIMIT = 1024;

/** Options of {@link buildAuthRequest}. */
export interface BuildAuthRequestOptions {
  /** `auth_http_pass_client_cert`: send the client's PEM as `Auth-SSL-Cert`. */
  passClientCert?: boolean;
  /** `auth_http_keepalive` > 0: ask for `Connection: keep-alive`. */
  keepAlive?: boolean;
}

const HEX = "0123456789ABCDEF";

/**
 * Escapes a binary string the way nginx escapes Auth-User, Auth-Pass and Auth-SSL-Cert
 * (spec §3.2): bytes 0x00–0x20 and `%` become `%XX` (uppercase), nothing else changes.
 */
export function escapeAuthValue(value: string): string {
  let out = "";
  for (let i = 0; i < value.length; i++) {
    // Binary strings hold one byte per char; masking keeps a stray wide char from
    // smuggling an unescaped control byte through fromBinary's truncation.
    const c = value.charCodeAt(i) & 0xff;
    out += c <= 0x20 || c === 0x25 ? "%" + HEX[c >> 4] + HEX[c & 15] : String.fromCharCode(c);
  }
  return out;
}

/** A raw (unescaped) binary value. CR/LF never occur legitimately; dropping them rules out header injection. */
function raw(value: string): string {
  return value.replace(/[\r\n]/g, " ");
}

/** JS text (config values, TLS names) as a binary string of its UTF-8 bytes. */
function text(value: string): string {
  return raw(/[\u0080-\uffff]/.test(value) ? toBinary(utf8(value)) : value);
}

/**
 * Builds the auth_http request for one attempt: HTTP/1.0, headers in exactly nginx's
 * order and conditions (spec §3.1), then the configured extra headers, then CRLF.
 */
export function buildAuthRequest(
  url: AuthHttpUrl,
  req: AuthRequest,
  extraHeaders: readonly (readonly [string, string])[],
  opts: BuildAuthRequestOptions = {},
): Uint8Array {
  const out: string[] = [];
  const header = (name: string, value: string) => out.push(name, ": ", value, "\r\n");

  out.push("GET ", text(url.uri), " HTTP/1.0\r\n");
  header("Host", text(url.hostHeader));
  header("Auth-Method", req.method);
  header("Auth-User", escapeAuthValue(req.user));
  header("Auth-Pass", escapeAuthValue(req.pass));
  if ((req.method === "apop" || req.method === "cram-md5") && req.salt) {
    // nginx copies the salt with its own trailing CRLF; ours is stored without it.
    header("Auth-Salt", raw(req.salt));
  }
  header("Auth-Protocol", req.protocol);
  header("Auth-Login-Attempt", String(req.attempt));
  header("Client-IP", raw(req.clientIp));
  if (req.clientHost) header("Client-Host", raw(req.clientHost));
  const pp = req.proxyProtocol;
  if (pp) {
    header("Proxy-Protocol-Addr", raw(pp.srcAddr));
    header("Proxy-Protocol-Port", String(pp.srcPort));
    header("Proxy-Protocol-Server-Addr", raw(pp.dstAddr));
    header("Proxy-Protocol-Server-Port", String(pp.dstPort));
  }
  if (req.method === "none") {
    header("Auth-SMTP-Helo", raw(req.smtp?.helo ?? ""));
    header("Auth-SMTP-From", raw(req.smtp?.from ?? ""));
    header("Auth-SMTP-To", raw(req.smtp?.to ?? ""));
  }
  const tls = req.tls;
  if (tls) {
    header("Auth-SSL", "on");
    // The session fills only what nginx would know (verify only with ssl_verify_client,
    // certificate details only when a certificate was presented).
    if (tls.protocol) header("Auth-SSL-Protocol", text(tls.protocol));
    if (tls.cipher) header("Auth-SSL-Cipher", text(tls.cipher));
    if (tls.verify) header("Auth-SSL-Verify", text(tls.verify));
    if (tls.subject) header("Auth-SSL-Subject", text(tls.subject));
    if (tls.issuer) header("Auth-SSL-Issuer", text(tls.issuer));
    if (tls.serial) header("Auth-SSL-Serial", text(tls.serial));
    if (tls.fingerprint) header("Auth-SSL-Fingerprint", text(tls.fingerprint));
    if (opts.passClientCert && tls.certPem) {
      header("Auth-SSL-Cert", escapeAuthValue(toBinary(utf8(tls.certPem))));
    }
  }
  // Not nginx's (it always closes): only with auth_http_keepalive.
  if (opts.keepAlive) header("Connection", "keep-alive");
  for (const [name, value] of extraHeaders) header(text(name), text(value));
  out.push("\r\n");
  return fromBinary(out.join(""));
}

/**
 * Whether nginx would still hold a password for the §3.4 step-4 check: PLAIN always
 * has one (possibly empty); APOP/CRAM-MD5 digests are forgotten once Auth-Salt is
 * sent; EXTERNAL only carries a password left over from an earlier attempt (§6.3).
 */
export function requestHasPassword(req: AuthRequest): boolean {
  switch (req.method) {
    case "plain":
    case "none":
    // The bearer token travels as Auth-Pass (freenginx 1.27.1).
    case "oauthbearer":
    case "xoauth2":
      return true;
    case "apop":
    case "cram-md5":
      return !req.salt;
    case "external":
      return req.pass.length > 0;
  }
}

/** The recognised headers of one reply. Values are binary strings (one char per byte). */
export interface ParsedReply {
  /**
   * The last `Auth-Status` value that was neither `OK` nor `WAIT` (may be empty).
   * A later `OK` does not clear it (spec §3.3).
   */
  failure?: string;
  /** An `Auth-Status: WAIT` was seen. */
  wait: boolean;
  /** Last valid `Auth-Wait` (seconds); unparsable values are ignored. */
  waitSeconds?: number;
  server?: string;
  port?: string;
  user?: string;
  pass?: string;
  errorCode?: string;
  /** mailproxy only: `Auth-Backend-TLS` (raw value; checked in {@link decide}). */
  backendTls?: string;
  /** mailproxy only: `Auth-Upstream`, an `[[upstream]]` name (wins over Auth-Server/Auth-Port). */
  upstream?: string;
  /** mailproxy only: `Auth-Cache` (raw value; `no` keeps the reply out of `[auth_cache]`). */
  cache?: string;
  /** mailproxy only: last valid `Auth-Cache-TTL` (seconds). */
  cacheTtl?: number;
  /** `Auth-Error-SASL` (freenginx 1.27.1): base64 JSON error for OAuth logins. */
  errorSasl?: string;
  /** `Connection` (for auth_http_keepalive; nginx ignores it). */
  connection?: string;
  /** `Content-Length` (for auth_http_keepalive: a body forbids reuse). */
  contentLength?: string;
}

/** A parse failure; `error` is a phrase to append to `auth http server <peer> `. */
export interface ReplyError {
  error: string;
}

const enum Phase {
  Status,
  Headers,
  Done,
  Failed,
}

const enum St {
  // status line ("HTTP/" then anything to end of line)
  Start,
  H,
  HT,
  HTT,
  HTTP,
  Skip,
  StatusAlmostDone,
  // header lines
  LineStart,
  Name,
  SpaceBeforeValue,
  Value,
  SpaceAfterValue,
  LineAlmostDone,
  HeadAlmostDone,
}

const CR = 13;
const LF = 10;
const SP = 32;

function isAlnum(c: number): boolean {
  const l = c | 0x20;
  return (l >= 0x61 && l <= 0x7a) || (c >= 0x30 && c <= 0x39);
}

/**
 * Incremental parser of an auth_http reply head, a port of nginx's
 * `ngx_mail_auth_http_ignore_status_line` / `parse_header_line` state machines.
 * Feed it chunks as they arrive; it answers `"more"` until the blank line, an error,
 * or the 1024-byte head limit. Bytes after the blank line (a body) are ignored.
 */
export class AuthReplyParser {
  #buf = new Uint8Array(AUTH_REPLY_HEAD_LIMIT);
  #len = 0;
  #pos = 0;
  #phase = Phase.Status;
  #state = St.Start;
  #nameStart = 0;
  #nameEnd = 0;
  #valueStart = 0;
  #valueEnd = 0;
  #reply: ParsedReply = { wait: false };
  #error: ReplyError | null = null;
  #extra = 0;

  /** Bytes received after the blank line that ends the head (a body, or a stray reply). */
  get extraBytes(): number {
    return this.#extra;
  }

  /** Consumes the next chunk of the reply. */
  feed(bytes: Uint8Array): ParsedReply | "more" | ReplyError {
    if (this.#phase === Phase.Done) {
      this.#extra += bytes.length;
      return this.#reply;
    }
    if (this.#phase === Phase.Failed) return this.#error!;
    const room = this.#buf.length - this.#len;
    const take = Math.min(room, bytes.length);
    this.#buf.set(bytes.subarray(0, take), this.#len);
    this.#len += take;
    const phase = this.#run();
    if (phase === Phase.Done) {
      this.#extra = this.#len - this.#pos + bytes.length - take;
      return this.#reply;
    }
    if (phase === Phase.Failed) return this.#error!;
    if (this.#len === this.#buf.length) {
      this.#fail("sent too long response (head over 1024 bytes)");
      return this.#error!;
    }
    return "more";
  }

  #fail(error: string): void {
    this.#phase = Phase.Failed;
    this.#error = { error };
  }

  /** Advances the state machine over the buffered bytes; returns the new phase. */
  #run(): Phase {
    const buf = this.#buf;
    let st = this.#state;
    let p = this.#pos;
    for (; p < this.#len && this.#phase !== Phase.Failed && this.#phase !== Phase.Done; p++) {
      const c = buf[p];
      switch (st) {
        // Status line: skipped only if the reply starts with "HTTP/" (code ignored).
        case St.Start:
        case St.H:
        case St.HT:
        case St.HTT:
        case St.HTTP:
          if (c === "HTTP/".charCodeAt(st - St.Start)) {
            st = st === St.HTTP ? St.Skip : st + 1;
          } else {
            // Not a status line: parse everything from the first byte as headers.
            this.#phase = Phase.Headers;
            st = St.LineStart;
            p = -1;
          }
          break;
        case St.Skip:
          if (c === CR) st = St.StatusAlmostDone;
          else if (c === LF) {
            this.#phase = Phase.Headers;
            st = St.LineStart;
          }
          break;
        case St.StatusAlmostDone:
          if (c !== LF) {
            this.#fail("sent invalid response");
            break;
          }
          this.#phase = Phase.Headers;
          st = St.LineStart;
          break;

        case St.LineStart:
          if (c === CR) st = St.HeadAlmostDone;
          else if (c === LF) this.#phase = Phase.Done;
          else if (isAlnum(c)) {
            this.#nameStart = p;
            st = St.Name;
          } else this.#fail("sent invalid header in response");
          break;
        case St.Name:
          if (isAlnum(c) || c === 0x2d) break;
          if (c === 0x3a) {
            this.#nameEnd = p;
            st = St.SpaceBeforeValue;
          } else if (c === CR || c === LF) {
            // A bare name is a header with an empty value.
            this.#nameEnd = this.#valueStart = this.#valueEnd = p;
            st = this.#lineEnd(c);
          } else this.#fail("sent invalid header in response");
          break;
        case St.SpaceBeforeValue:
          if (c === SP) break;
          this.#valueStart = this.#valueEnd = p;
          st = c === CR || c === LF ? this.#lineEnd(c) : St.Value;
          break;
        case St.Value:
          if (c === SP) {
            this.#valueEnd = p;
            st = St.SpaceAfterValue;
          } else if (c === CR || c === LF) {
            this.#valueEnd = p;
            st = this.#lineEnd(c);
          }
          break;
        case St.SpaceAfterValue:
          // Trailing spaces are dropped; a non-space means they were inner spaces.
          if (c === SP) break;
          st = c === CR || c === LF ? this.#lineEnd(c) : St.Value;
          break;
        case St.LineAlmostDone:
          if (c !== LF) this.#fail("sent invalid header in response");
          else st = this.#lineEnd(c);
          break;
        case St.HeadAlmostDone:
          if (c !== LF) this.#fail("sent invalid header in response");
          else this.#phase = Phase.Done;
          break;
      }
    }
    this.#state = st;
    this.#pos = p;
    return this.#phase;
  }

  /**
   * CR or LF at the end of a header line: CR waits for its LF; LF (bare, or after
   * the CR) completes the header, and the next line starts.
   */
  #lineEnd(c: typeof CR | typeof LF): St {
    if (c === CR) return St.LineAlmostDone;
    this.#header();
    return St.LineStart;
  }

  #header(): void {
    const name = toBinary(this.#buf.subarray(this.#nameStart, this.#nameEnd)).toLowerCase();
    const value = toBinary(this.#buf.subarray(this.#valueStart, this.#valueEnd));
    const r = this.#reply;
    switch (name) {
      case "auth-status":
        // Exact, case-sensitive matches; anything else is a failure message.
        if (value === "WAIT") r.wait = true;
        else if (value !== "OK") r.failure = value;
        break;
      case "auth-server":
        r.server = value;
        break;
      case "auth-port":
        r.port = value;
        break;
      case "auth-user":
        r.user = value;
        break;
      case "auth-pass":
        r.pass = value;
        break;
      case "auth-wait":
        // ngx_atoi: digits only; an invalid value keeps the previous one.
        if (/^[0-9]+$/.test(value) && Number.isSafeInteger(Number(value))) r.waitSeconds = Number(value);
        break;
      case "auth-error-code":
        r.errorCode = value;
        break;
      case "auth-error-sasl":
        r.errorSasl = value;
        break;
      case "auth-backend-tls":
        r.backendTls = value;
        break;
      case "auth-upstream":
        r.upstream = value;
        break;
      case "auth-cache":
        r.cache = value;
        break;
      case "auth-cache-ttl":
        if (/^[0-9]+$/.test(value) && Number.isSafeInteger(Number(value))) r.cacheTtl = Number(value);
        break;
      case "connection":
        r.connection = value;
        break;
      case "content-length":
        r.contentLength = value;
        break;
    }
  }
}

/** §3.4 step 2: ask again after `wait` seconds (fresh request, same attempt number). */
export interface AuthWaitDecision {
  status: "wait";
  wait: number;
}

/** Options of {@link decide}. */
export interface DecideOptions {
  /** See {@link requestHasPassword}. */
  hasPassword: boolean;
  /** `host:port` of the auth server for error reasons, as nginx logs it. */
  peer?: string;
  /** The server's `upstream`: a reply without Auth-Server/Auth-Port (and without Auth-Upstream) goes there. */
  defaultUpstream?: string;
  /** The attempt used OAUTHBEARER or XOAUTH2: `Auth-Error-SASL` applies (ignored otherwise, as freenginx does). */
  oauth?: boolean;
}

/** A value from the auth server, made safe for a log line (controls and non-ASCII as `\\xNN`). */
function forLog(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, (c) => "\\x" + c.charCodeAt(0).toString(16).padStart(2, "0"));
}

/** Parses an nginx-acceptable IPv4 literal into canonical dotted-quad form, or null. */
function canonicalIpv4(s: string): string | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  const octets = m.slice(1).map(Number);
  // Leading zeros are decimal for nginx; canonicalising keeps resolvers from reading octal.
  return octets.every((o) => o <= 255) ? octets.join(".") : null;
}

/**
 * Turns a complete reply into the outcome of the attempt, in nginx's order (§3.4):
 * failure, WAIT, missing server/port, missing password (POP3/IMAP), address checks.
 */
export function decide(
  parsed: ParsedReply,
  protocol: MailProtocol,
  opts: DecideOptions,
): AuthResult | AuthWaitDecision {
  const who = opts.peer ? `auth http server ${opts.peer}` : "auth http server";
  const wait = parsed.waitSeconds ?? 0;

  // SMTP quirk: nginx keeps the bare message for SMTP, so an empty one is no failure;
  // POP3/IMAP wrap it ("-ERR \r\n"), so even an empty value fails.
  const failure = parsed.failure;
  if (failure !== undefined && (protocol !== "smtp" || failure !== "")) {
    const fail: AuthFail = { status: "fail", message: failure, wait };
    if (protocol === "smtp" && parsed.errorCode) fail.errorCode = parsed.errorCode;
    const hint = cacheHint(parsed);
    if (hint) fail.cache = hint;
    if (opts.oauth && parsed.errorSasl !== undefined) {
      // A challenge must be one line of base64: anything else would corrupt the session.
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(parsed.errorSasl)) {
        return { status: "error", reason: `${who} sent invalid Auth-Error-SASL` };
      }
      fail.saslError = parsed.errorSasl;
    }
    return fail;
  }
  if (opts.oauth && parsed.errorSasl !== undefined) {
    return { status: "error", reason: `${who} sent Auth-Error-SASL without a failure status` };
  }
  if (parsed.wait) return { status: "wait", wait };
  // mailproxy's upstreams: Auth-Upstream wins over Auth-Server/Auth-Port; a reply naming
  // no backend at all goes to the server's default upstream.
  const upstream = parsed.upstream !== undefined
    ? parsed.upstream
    : !parsed.server && !parsed.port
    ? opts.defaultUpstream
    : undefined;
  if (upstream !== undefined) {
    if (!/^[\x21-\x7e]{1,200}$/.test(upstream)) {
      return { status: "error", reason: `${who} sent invalid Auth-Upstream:"${forLog(upstream)}"` };
    }
    return withExtras({ status: "ok", server: "", port: 0, upstream }, parsed, protocol, opts, who);
  }
  if (!parsed.server || !parsed.port) {
    return { status: "error", reason: `${who} did not send server or port` };
  }
  if (protocol !== "smtp" && !opts.hasPassword && parsed.pass === undefined) {
    return { status: "error", reason: `${who} did not send password` };
  }
  const server = canonicalIpv4(parsed.server) ??
    (isIPv6(parsed.server) && !parsed.server.includes("%") ? parsed.server : null);
  if (server === null) {
    return { status: "error", reason: `${who} sent invalid server address:"${forLog(parsed.server)}"` };
  }
  const port = /^[0-9]+$/.test(parsed.port) ? Number(parsed.port) : NaN;
  if (!(port >= 1 && port <= 65535)) {
    return { status: "error", reason: `${who} sent invalid server port:"${forLog(parsed.port)}"` };
  }
  return withExtras({ status: "ok", server, port }, parsed, protocol, opts, who);
}

/** `Auth-Cache: no` / `Auth-Cache-TTL: N` of a reply, or undefined when it has neither. */
function cacheHint(parsed: ParsedReply): CacheHint | undefined {
  if (parsed.cache === undefined && parsed.cacheTtl === undefined) return undefined;
  const hint: CacheHint = {};
  if (parsed.cache !== undefined && parsed.cache.trim().toLowerCase() === "no") hint.no = true;
  if (parsed.cacheTtl !== undefined) hint.ttlSeconds = parsed.cacheTtl;
  return hint;
}

/** The password check and the optional headers of an OK reply (Auth-User, Auth-Pass, Auth-Backend-TLS). */
function withExtras(
  ok: AuthOk,
  parsed: ParsedReply,
  protocol: MailProtocol,
  opts: DecideOptions,
  who: string,
): AuthResult {
  if (ok.upstream !== undefined && protocol !== "smtp" && !opts.hasPassword && parsed.pass === undefined) {
    return { status: "error", reason: `${who} did not send password` };
  }
  if (parsed.user !== undefined) ok.user = parsed.user;
  if (parsed.pass !== undefined) ok.pass = parsed.pass;
  const hint = cacheHint(parsed);
  if (hint) ok.cache = hint;
  if (parsed.backendTls !== undefined) {
    const mode = parsed.backendTls.toLowerCase();
    if (mode !== "off" && mode !== "on" && mode !== "starttls") {
      return {
        status: "error",
        reason: `${who} sent invalid Auth-Backend-TLS:"${forLog(parsed.backendTls)}"`,
      };
    }
    ok.backendTls = mode;
  }
  return ok;
}
