/**
 * A resolved {@link ServerConfig} with nginx's defaults (spec §6.6), for unit tests
 * of protocol machines and the session driver. Durations are ms, sizes bytes.
 * @module
 */

import type { ServerConfig } from "../../lib/config/types.ts";

/** nginx's default buffer size: the page size on x86 Linux. */
const PAGE = 4096;

/**
 * Returns a server config with nginx defaults, then `overrides` applied. The
 * protocol defaults to `imap`; `server_name` is fixed to `localhost` (nginx uses the
 * machine's host name) so salts and greetings are deterministic.
 */
export function testServerConfig(overrides: Partial<ServerConfig> = {}): ServerConfig {
  return {
    index: 0,
    line: 1,
    protocol: "imap",
    listen: [{
      raw: "127.0.0.1:8143",
      transport: "tcp",
      host: "127.0.0.1",
      port: 8143,
      ssl: false,
      proxy_protocol: false,
    }],

    server_name: "localhost",
    timeout: 60_000,
    max_errors: 5,
    resolver: false,
    resolver_timeout: 30_000,

    auth: "http",
    auth_http: {
      raw: "http://127.0.0.1:8080/mail/auth",
      transport: "tcp",
      host: "127.0.0.1",
      port: 8080,
      uri: "/mail/auth",
      hostHeader: "127.0.0.1",
    },
    auth_http_header: [],
    auth_http_pass_client_cert: false,
    auth_http_timeout: 60_000,
    auth_http_keepalive: 0,
    auth_http_keepalive_timeout: 60_000,

    proxy_buffer: PAGE,
    proxy_pass_error_message: false,
    proxy_protocol: "off",
    proxy_smtp_auth: false,
    proxy_timeout: 24 * 3600_000,
    xclient: true,

    imap_auth: ["plain"],
    imap_capabilities: ["IMAP4", "IMAP4rev1", "UIDPLUS"],
    imap_client_buffer: PAGE,
    pop3_auth: ["plain"],
    pop3_capabilities: ["TOP", "USER", "UIDL"],
    // mailproxy's own default (nginx has a fixed 128 bytes), as in lib/config/schema.ts.
    pop3_client_buffer: 8192,
    smtp_auth: ["plain", "login"],
    smtp_capabilities: [],
    smtp_client_buffer: PAGE,
    smtp_greeting_delay: 0,

    starttls: "off",
    ssl_certificate: [],
    ssl_certificate_key: [],
    ssl_password_file: null,
    ssl_protocols: ["TLSv1.2", "TLSv1.3"],
    ssl_ciphers: "HIGH:!aNULL:!MD5",
    ssl_prefer_server_ciphers: false,
    ssl_session_cache: "none",
    ssl_session_tickets: true,
    ssl_session_timeout: 300_000,
    ssl_verify_client: "off",
    ssl_verify_depth: 1,
    ssl_client_certificate: null,
    ssl_trusted_certificate: null,
    ssl_crl: null,
    ssl_sni: [],

    backend_tls: "off",
    backend_tls_ca: null,
    backend_tls_verify: true,
    backend_tls_name: null,
    backend_tls_certificate: null,
    backend_tls_certificate_key: null,
    imap_id: false,

    set_real_ip_from: [],
    access: [],
    upstream: null,
    ...overrides,
  };
}
