/**
 * The validated, resolved configuration: what the rest of mailproxy consumes.
 * Keys keep the TOML (= nginx directive) names; durations are milliseconds and
 * sizes are bytes. Produced by `load.ts` from TOML; never built by hand elsewhere
 * except in tests.
 * @module
 */

import type { AccessRule } from "../access/mod.ts";
import type { ErrorLogTarget } from "./error_log.ts";
import type { MailProtocol } from "../types.ts";
import type { NOT_STORED_IN_SERVER, SchemaRow } from "./schema.ts";

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

/** One `[[server.ssl_sni]]` entry: the certificates served for one name (SNI). */
export interface SniCertificate {
  name: string;
  ssl_certificate: string[];
  ssl_certificate_key: string[];
}

/** The TypeScript type each value kind resolves to (what `kinds.ts` returns for it). */
interface KindTypes {
  duration: number;
  size: number;
  bool: boolean;
  int: number;
  string: string;
  path: string;
  path_list: string[];
  string_list: string[];
  auth_methods: string[];
  listen: ListenSpec[];
  auth_http: AuthHttpUrl;
  headers: [string, string][];
  resolver: string[] | false;
  real_ip_list: string[];
  access_list: AccessRule[];
  ssl_protocols: string[];
  ssl_session_cache: string;
  sni: SniCertificate[];
  workers: number | "auto";
  error_log: ErrorLogTarget[];
  /** `"ip:port"` of an `[[upstream]]` server (upstream.ts adds the formatted address). */
  backend_address: { host: string; port: number };
  health_check: HealthCheckConfig;
}

/** A row's value: enum rows their values, other kinds per {@link KindTypes}; `default: null` adds null. */
type ValueOf<R> =
  | (R extends { kind: "enum"; values: readonly (infer V)[] } ? V
    : R extends { kind: infer K extends keyof KindTypes } ? KindTypes[K]
    : never)
  | (R extends { default: null } ? null : never);

/**
 * The rows a server resolves: every mail-level key (inherited from the top level) and the
 * server-only ones, minus those recognised only to refuse (`unsupported`, `removed`) and
 * the no-ops kept for nginx compatibility; `isServerKey()` in schema.ts at run time.
 */
type ServerRow = Exclude<
  Extract<SchemaRow, { context: "mail" | "server" }>,
  { kind: "unsupported" | "removed" } | { name: (typeof NOT_STORED_IN_SERVER)[number] }
>;

/** Kinds of derived rows that {@link KindTypes} has no type for; must stay `never` (a test checks). */
export type UntypedRowKinds = Exclude<
  (ServerRow | TopRow | UpstreamRow | Extract<SchemaRow, { context: "log" }>)["kind"],
  keyof KindTypes | "enum"
>;

/** The values of some rows, by key name. */
type RowValues<Rows extends SchemaRow> = { -readonly [R in Rows as R["name"]]: ValueOf<R> };

/** The values of the {@link ServerRow}s, by key name. */
type ServerValues = RowValues<ServerRow>;

/**
 * Everything a `[[server]]` table resolves to after inheritance from the mail level:
 * one field per schema row (lib/config/schema.ts says what each means), durations in ms,
 * sizes in bytes. Derived from the rows, so the type cannot miss a key the loader fills.
 */
export interface ServerConfig extends ServerValues {
  /** 0-based position among `[[server]]` tables. */
  index: number;
  /** 1-based line of the `[[server]]` header in the config file, for messages. */
  line: number;
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

/** The rows of an `[[upstream]]` table besides its `server` array. */
type UpstreamRow = Exclude<Extract<SchemaRow, { context: "upstream" }>, { kind: "table_array" }>;

/**
 * An `[[upstream]]`: a pool of backends with affinity, health checks and failover. One field
 * per `upstream` schema row (durations in ms; `backend_tls`/`proxy_protocol` null = the
 * server's), derived like {@link ServerConfig}, and its servers.
 */
export interface UpstreamConfig extends RowValues<UpstreamRow> {
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

/** One `[login_limits]` counter: `failures` within `window` block for `block` (ms). */
export interface LimitRuleConfig {
  failures: number;
  window: number;
  block: number;
}

/** The `[login_limits]` table (times in ms); `ip`/`user` null = not counted. */
export interface LoginLimitsConfig {
  ip: LimitRuleConfig | null;
  user: LimitRuleConfig | null;
  delay: number[];
  exempt: string[];
  known_ip: number;
}

/** The `[auth_cache]` table: one field per `auth_cache` row (durations in ms). */
export type AuthCacheConfig = RowValues<Extract<SchemaRow, { context: "auth_cache" }>>;

/** The `[admin]` table. */
export interface AdminConfig {
  listen: ListenSpec | null;
  /** Bearer token required on every request when set. */
  token: string | null;
}

/** The `[log]` table: one field per `log` row of the schema. */
export type LogConfig = RowValues<Extract<SchemaRow, { context: "log" }>>;

/** Top-level scalar rows (`worker_processes`, `shutdown_timeout`, …); tables are typed below. */
type TopRow = Exclude<Extract<SchemaRow, { context: "top" }>, { kind: "table" | "table_array" }>;

/**
 * The whole resolved configuration: the top-level scalars (derived from their rows, so
 * `resolve.ts` fails to compile when a new one is not read), the servers and the tables.
 */
export interface Config extends RowValues<TopRow> {
  /** Absolute path of the file it came from. */
  file: string;
  servers: ServerConfig[];
  /** Mail-level `error_log`: where every line goes unless a server has its own; null = stderr. */
  error_log: ErrorLogTarget[] | null;
  admin: AdminConfig;
  log: LogConfig;
  /** `[login_limits]`; null when the table is absent (no limits). */
  login_limits: LoginLimitsConfig | null;
  /** `[auth_cache]`; null when the table is absent (no cache). */
  auth_cache: AuthCacheConfig | null;
  static_auth: StaticAuthConfig;
  /** `[[upstream]]` pools, in file order. */
  upstreams: UpstreamConfig[];
  /** Non-fatal findings (deprecated or no-op keys), shown by --check and logged at start. */
  warnings: string[];
}
