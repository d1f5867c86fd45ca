/**
 * The validated, resolved configuration: what the rest of mailproxy consumes.
 * Keys keep the TOML (= nginx directive) names; durations are milliseconds and
 * sizes are bytes. Produced by `load.ts` from TOML; never built by hand elsewhere
 * except in tests.
 * @module
 */

import type { AccessRule } from "../access/rules.ts";
import type { MailProtocol } from "../types.ts";

/** One `listen` entry (spec §1.3). */
export interface ListenSpec {
  /** The text as written, for messages and the status view. */
  raw: string;
  transport: "tcp" | "unix";
  /** tcp: IP literal (`0.0.0.0` for `*` or a bare port, `::` for `[::]`); unix: socket path. */
  host: string;
  /** tcp only; 0 for unix. */
  port: number;
  ssl: boolean;
  proxy_protocol: boolean;
  backlog?: number;
  rcvbuf?: number;
  sndbuf?: number;
  ipv6only?: boolean;
  bind?: boolean;
  /** `true`, `false`, or idle/interval (ms) and count. */
  so_keepalive?: boolean | { idle?: number; interval?: number; count?: number };
}

/** Parsed `auth_http` URL. */
export interface AuthHttpUrl {
  raw: string;
  transport: "tcp" | "unix";
  /** tcp: host as written (IPv6 with brackets); unix: the socket path. */
  host: string;
  port: number;
  /** Request URI including any query string; `/` when absent. */
  uri: string;
  /** Value of the `Host:` header (host without port; `localhost` for unix). */
  hostHeader: string;
}

/** Everything a `[[server]]` table resolves to after inheritance from the mail level. */
export interface ServerConfig {
  /** 0-based position among `[[server]]` tables. */
  index: number;
  /** 1-based line of the `[[server]]` header in the config file, for messages. */
  line: number;
  protocol: MailProtocol;
  listen: ListenSpec[];

  // core
  server_name: string;
  timeout: number;
  max_errors: number;
  resolver: string[] | false;
  resolver_timeout: number;

  // auth
  /** Which provider decides logins: `http` (auth_http) or `static` (built-in users). */
  auth: "http" | "static";
  auth_http: AuthHttpUrl | null;
  /** Extra request headers, in config order. */
  auth_http_header: [string, string][];
  auth_http_pass_client_cert: boolean;
  auth_http_timeout: number;
  /** mailproxy only: idle auth server connections kept (0 = a new one per request). */
  auth_http_keepalive: number;
  /** mailproxy only: ms an idle auth server connection is kept. */
  auth_http_keepalive_timeout: number;

  // proxy
  proxy_buffer: number;
  proxy_pass_error_message: boolean;
  proxy_protocol: "off" | "v1" | "v2";
  proxy_smtp_auth: boolean;
  proxy_timeout: number;
  xclient: boolean;

  // protocols
  imap_auth: string[];
  imap_capabilities: string[];
  imap_client_buffer: number;
  pop3_auth: string[];
  pop3_capabilities: string[];
  pop3_client_buffer: number;
  smtp_auth: string[];
  smtp_capabilities: string[];
  smtp_client_buffer: number;
  smtp_greeting_delay: number;

  // TLS towards clients
  starttls: "off" | "on" | "only";
  ssl_certificate: string[];
  ssl_certificate_key: string[];
  ssl_password_file: string | null;
  ssl_protocols: string[];
  ssl_ciphers: string;
  ssl_prefer_server_ciphers: boolean;
  ssl_session_cache: string;
  ssl_session_tickets: boolean;
  ssl_session_timeout: number;
  ssl_verify_client: "off" | "on" | "optional" | "optional_no_ca";
  ssl_verify_depth: number;
  ssl_client_certificate: string | null;
  ssl_trusted_certificate: string | null;
  ssl_crl: string | null;
  /** Per-name certificates (SNI). */
  ssl_sni: { name: string; ssl_certificate: string[]; ssl_certificate_key: string[] }[];

  // TLS towards backends (mailproxy only)
  backend_tls: "off" | "on" | "starttls";
  backend_tls_ca: string | null;
  backend_tls_verify: boolean;
  backend_tls_name: string | null;
  backend_tls_certificate: string | null;
  backend_tls_certificate_key: string | null;
  /** Send IMAP ID with the real client to the backend before LOGIN. */
  imap_id: boolean;

  // realip
  set_real_ip_from: string[];

  // access
  /** allow/deny rules in evaluation order (first match decides; none matching allows). */
  access: AccessRule[];

  /** mailproxy only: the `[[upstream]]` logins go to when the auth reply names no backend. */
  upstream: string | null;
}

/** A static backend: an address, or an `[[upstream]]` written as `"upstream:NAME"`. */
export type BackendRef = { host: string; port: number } | { upstream: string };

/** `health_check` of an `[[upstream]]`: times in ms; interval 0 = no active checks. */
export interface HealthCheckConfig {
  interval: number;
  timeout: number;
  /** Failed checks (or failed login connects) in a row that mark a server down. */
  fails: number;
  /** Good checks in a row that mark it up again. */
  passes: number;
}

/** One server of an `[[upstream]]`. */
export interface UpstreamServerConfig {
  /** `host:port` as formatted by formatHostPort (IPv6 in brackets): the server's identity. */
  address: string;
  host: string;
  port: number;
  weight: number;
  backup: boolean;
  /** The configured state; the admin API may override it at runtime. */
  state: "up" | "drain" | "down";
}

/** An `[[upstream]]`: a pool of backends with affinity, health checks and failover. */
export interface UpstreamConfig {
  name: string;
  protocol: MailProtocol;
  hash: "user" | "domain" | "none";
  /** ms a user keeps its server after its last session ended. */
  sticky: number;
  max_reconnects: number;
  health_check: HealthCheckConfig;
  /** Overrides of the server's backend_tls / proxy_protocol; null = the server's. */
  backend_tls: "off" | "on" | "starttls" | null;
  proxy_protocol: "off" | "v1" | "v2" | null;
  servers: UpstreamServerConfig[];
}

/** A built-in user of the `static` auth provider. */
export interface StaticUser {
  name: string;
  /** PHC-style hash made by `mailproxy hash-password` (`$scrypt$…`). */
  password: string;
  /** Backend per protocol (`host:port` or an upstream), falling back to `[static_auth].backend`. */
  backend: Partial<Record<MailProtocol, BackendRef>>;
}

/** The `[static_auth]` table. */
export interface StaticAuthConfig {
  backend: Partial<Record<MailProtocol, BackendRef>>;
  users: StaticUser[];
  /**
   * Delay (ms) before a failed login is answered, slowing password guessing; the
   * client may then try again. Optional: the static provider defaults to 2000.
   */
  failure_wait?: number;
}

/** The `[admin]` table. */
export interface AdminConfig {
  listen: ListenSpec | null;
  /** Bearer token required on every request when set. */
  token: string | null;
}

/** The `[log]` table. */
export interface LogConfig {
  level: "debug" | "info" | "warning" | "error";
  format: "text" | "json";
}

/** The whole resolved configuration. */
export interface Config {
  /** Absolute path of the file it came from. */
  file: string;
  /** Number of worker processes, or `"auto"` for one per CPU core (default 1). */
  worker_processes: number | "auto";
  /** Drain limit (ms) on SIGTERM/SIGINT before remaining sessions are ended. */
  shutdown_timeout: number;
  /** Most client connections at once, all servers together; 0 = no limit. */
  max_connections: number;
  /** Most client connections at once from one client address; 0 = no limit. */
  max_connections_per_ip: number;
  servers: ServerConfig[];
  admin: AdminConfig;
  log: LogConfig;
  static_auth: StaticAuthConfig;
  /** `[[upstream]]` pools, in file order. */
  upstreams: UpstreamConfig[];
  /** Non-fatal findings (deprecated or no-op keys), shown by --check and logged at start. */
  warnings: string[];
}
