/**
 * The single source of truth for the configuration format: one row per TOML key.
 * Validation (`resolve.ts`), the JSON Schema (`json_schema.ts`) and the reference
 * documentation are all generated from {@link CONFIG_KEYS}, so a key added here is
 * automatically validated, documented and offered by editors.
 *
 * Key names are the nginx directive names ("spec §X" below: docs/spec/nginx-mail.md).
 * Defaults are written in TOML form (as a user would type them) and parsed by the same
 * code as user values, so the documented default and the effective default cannot
 * disagree.
 * @module
 */

/** How a key's TOML value is read. Each kind has one parser in `kinds.ts`. */
export type ValueKind =
  /** nginx time: `"60s"`, `"500ms"`, `"1h30m"`; a TOML integer is seconds. Stored as ms. */
  | "duration"
  /** nginx size: `"4k"`, `"1m"`; a TOML integer is bytes. Stored as bytes. */
  | "size"
  /** TOML boolean (nginx `on`/`off`). */
  | "bool"
  /** TOML integer within `min`/`max`. */
  | "int"
  /** Free text (no CR/LF). */
  | "string"
  /** A file that must exist and be readable; relative to the config file's directory. */
  | "path"
  /** A list of such files (string or array). */
  | "path_list"
  /** A list of words (string or array), e.g. capability tokens. */
  | "string_list"
  /** One of `values`; `boolAliases` maps TOML false/true onto two of them. */
  | "enum"
  /** `*_auth`: case-insensitive method names out of `values`, stored lowercase. */
  | "auth_methods"
  /** `listen`: one string or an array, each `ADDRESS [options]` (spec §1.3). */
  | "listen"
  /** A single listen address (the admin API). */
  | "listen_one"
  /** The `auth_http` URL. */
  | "auth_http"
  /** `auth_http_header`: a table of header name → value. */
  | "headers"
  /** `resolver`: `false` or DNS server addresses. */
  | "resolver"
  /** `set_real_ip_from`: addresses, CIDRs, host names or `unix:`. */
  | "real_ip_list"
  /** `access`: ordered `{ allow = ADDR }` / `{ deny = ADDR }` rules (nginx access module). */
  | "access_list"
  /** `ssl_protocols`: TLS version names. */
  | "ssl_protocols"
  /** `ssl_session_cache`: `off | none | [builtin[:N]] [shared:NAME:SIZE]`. */
  | "ssl_session_cache"
  /** `ssl_sni`: an array of tables `{ name, ssl_certificate, ssl_certificate_key }`. */
  | "sni"
  /** `worker_processes`: a positive integer or `"auto"`. */
  | "workers"
  /**
   * A backend: `"host:port"` (or `"upstream:NAME"`) for every protocol, or
   * `{ imap = …, pop3 = …, smtp = …, sieve = … }`.
   */
  | "backend"
  /** A `$scrypt$…` hash made by `mailproxy hash-password`. */
  | "password_hash"
  /** `error_log`: `"TARGET [LEVEL]"` entries (stderr, a file, `syslog:server=…`); string or array. */
  | "error_log"
  /** One server address `"ip:port"` (an `[[upstream]]` server). */
  | "backend_address"
  /** `health_check`: `{ interval, timeout, fails, passes }` of an `[[upstream]]`. */
  | "health_check"
  /** `[login_limits]` ip/user: `{ failures, window, block }`, or `false` = not counted. */
  | "limit_rule"
  /** An array of durations (`["2s", "4s"]`); `[]` = none. */
  | "duration_list"
  /** IP addresses or CIDRs; string or array. */
  | "cidr_list"
  /** A duration compared with timestamps, not a timer: up to 10 years (`"30d"`). */
  | "age"
  /** A sub-table with its own keys (`[admin]`, `[log]`, `[static_auth]`). */
  | "table"
  /** An array of tables (`[[server]]`, `[[static_auth.user]]`). */
  | "table_array"
  /** An nginx directive mailproxy recognises but cannot honour: an error explains why. */
  | "unsupported"
  /** An nginx directive that no longer exists: an error names the replacement. */
  | "removed";

/**
 * Where a key may be written.
 * - `mail`: at the top level (nginx `mail {}` level) and in `[[server]]`; servers inherit it.
 * - `server`: only in `[[server]]`.
 * - `top`: only at the top level.
 * - the other values name the sub-table the key belongs to.
 */
export type KeyContext =
  | "mail"
  | "server"
  | "top"
  | "admin"
  | "log"
  | "login_limits"
  | "auth_cache"
  | "static_auth"
  | "static_auth.user"
  | "upstream"
  | "upstream.server";

/** A TOML value as written in a config file (what defaults and examples are expressed in). */
export type TomlValue = string | number | boolean | readonly TomlValue[] | {
  readonly [key: string]: TomlValue;
};

/** One configuration key. */
export interface KeySpec {
  /** TOML key; equals the nginx directive name where one exists. */
  name: string;
  kind: ValueKind;
  context: KeyContext;
  /**
   * Default in TOML form, or `null` when the key has no value unless set. Keys whose
   * default is computed (see `defaultDoc`) have `undefined`.
   */
  default?: TomlValue | null;
  /** Human text for a computed or absent default ("machine host name", "required"). */
  defaultDoc?: string;
  /** The key must be present (in the table, or for `listen` in each server). */
  required?: boolean;
  /** nginx syntax of the directive, or `null` for mailproxy-only keys. */
  directive: string | null;
  /** One line saying what the key does. */
  doc: string;
  /** A TOML line showing typical use. */
  example: string;
  /** `enum`, `auth_methods`: allowed values. */
  values?: readonly string[];
  /** `enum`: the values TOML `false` and `true` stand for. */
  boolAliases?: readonly [string, string];
  /** `int`, `size`: inclusive bounds. */
  min?: number;
  max?: number;
  /** `unsupported`/`removed`: why, and what to use instead (ends up in the error). */
  reason?: string;
  /** `unsupported`: a value that is accepted because it equals nginx's default behaviour. */
  accept?: TomlValue;
  /** Accepted, but only produces this warning (nginx no-ops). */
  warning?: string;
}

const PAGE = "4k";
const MIB = 1024 * 1024;

/**
 * The rows, typed `as const`: `types.ts` derives `ServerConfig` from their names, kinds,
 * enum values and null defaults, so a key added here is a field there (and a compile
 * error wherever a full ServerConfig is written out) without a second declaration.
 */
const ROWS = [
  // ---- top level only --------------------------------------------------------------
  {
    name: "worker_processes",
    kind: "workers",
    context: "top",
    default: 1,
    directive: "worker_processes NUMBER | auto;",
    doc: 'Number of worker processes; "auto" = one per CPU core.',
    example: 'worker_processes = "auto"',
  },
  {
    name: "worker_shutdown_timeout",
    kind: "duration",
    context: "top",
    default: null,
    defaultDoc: "none (sessions of an old configuration may go on for ever, as in nginx)",
    directive: "worker_shutdown_timeout TIME;",
    doc: "After a reload, how long sessions started under the previous configuration may go on; then " +
      "they are ended (before login with the protocol's goodbye). The value of the configuration a " +
      "session started under applies, as in nginx.",
    example: 'worker_shutdown_timeout = "10m"',
  },
  {
    name: "shutdown_timeout",
    kind: "duration",
    context: "top",
    default: "30s",
    defaultDoc: "worker_shutdown_timeout when that is set, else 30s",
    directive: null,
    doc: "On SIGTERM/SIGINT, how long sessions may go on after listeners close; the rest are then ended.",
    example: 'shutdown_timeout = "2m"',
  },
  {
    name: "max_connections",
    kind: "int",
    context: "top",
    default: 0,
    min: 0,
    max: 1_000_000,
    directive: null,
    doc:
      "Most client connections at once (all servers); more get the protocol's polite refusal. 0 = no limit.",
    example: "max_connections = 8000",
  },
  {
    name: "max_connections_per_ip",
    kind: "int",
    context: "top",
    default: 0,
    min: 0,
    max: 1_000_000,
    directive: null,
    doc: "Most client connections at once from one client address (after PROXY protocol); 0 = no limit.",
    example: "max_connections_per_ip = 50",
  },
  {
    name: "server",
    kind: "table_array",
    context: "top",
    default: null,
    directive: "server { ... }",
    doc: "One virtual mail server; write one [[server]] table per server.",
    example: '[[server]]\nlisten = "143"',
  },
  {
    name: "admin",
    kind: "table",
    context: "top",
    default: null,
    defaultDoc: "absent = admin API disabled",
    directive: null,
    doc: "The admin HTTP API (status, metrics); absent = disabled.",
    example: '[admin]\nlisten = "127.0.0.1:8080"',
  },
  {
    name: "log",
    kind: "table",
    context: "top",
    default: null,
    directive: null,
    doc: "Logging: the level of the default stderr output and the line format of stderr and files.",
    example: '[log]\nlevel = "info"',
  },
  {
    name: "login_limits",
    kind: "table",
    context: "top",
    default: null,
    defaultDoc: "absent = no login limits",
    directive: null,
    doc: "Failed-login limits per client network and per user: a growing delay before each failure reply " +
      "and a temporary block (Dovecot's auth penalty, across all servers of the process).",
    example: '[login_limits]\nip = { failures = 10, window = "10m", block = "15m" }',
  },
  {
    name: "auth_cache",
    kind: "table",
    context: "top",
    default: null,
    defaultDoc: "absent = every login asks the auth service",
    directive: null,
    doc:
      "Keep auth_http answers (PLAIN/LOGIN only) for a while, keyed by a keyed hash of protocol, method, " +
      "user and password; entries are encrypted.",
    example: '[auth_cache]\nttl = "5m"',
  },
  {
    name: "static_auth",
    kind: "table",
    context: "top",
    default: null,
    directive: null,
    doc: "Built-in users, an alternative to an auth_http server.",
    example: '[static_auth]\nbackend = "127.0.0.1:143"',
  },
  {
    name: "upstream",
    kind: "table_array",
    context: "top",
    default: null,
    directive: "upstream NAME { ... } (nginx stream)",
    doc: "A pool of backend servers with per-user affinity, health checks, failover and drain; write one " +
      "[[upstream]] table per pool. Logins reach it through Auth-Upstream, a server's upstream key, or a " +
      'static backend "upstream:NAME".',
    example: '[[upstream]]\nname = "imap_main"\nprotocol = "imap"\nserver = [{ address = "10.0.0.11:143" }]',
  },

  // ---- server only -----------------------------------------------------------------
  {
    name: "listen",
    kind: "listen",
    context: "server",
    required: true,
    defaultDoc: "required",
    directive: "listen ADDRESS[:PORT] | PORT | unix:PATH [ssl] [proxy_protocol] [backlog=N] [rcvbuf=SIZE] " +
      "[sndbuf=SIZE] [bind] [ipv6only=on|off] [multipath] [so_keepalive=on|off|[IDLE]:[INTVL]:[CNT]];",
    doc: "Listening socket(s): a string or an array of strings, each an address followed by options.",
    example: 'listen = ["993 ssl", "127.0.0.1:1143"]',
  },
  {
    name: "protocol",
    kind: "enum",
    context: "server",
    values: ["imap", "pop3", "smtp", "sieve"],
    defaultDoc: "detected from the listen port (110/995 pop3, 143/993 imap, 25/465/587 smtp, 4190 sieve)",
    directive: "protocol imap | pop3 | smtp;",
    doc: "Protocol spoken on this server's sockets (sieve = ManageSieve, RFC 5804; a mailproxy extension).",
    example: 'protocol = "imap"',
  },

  // ---- core (mail level and server) ------------------------------------------------
  {
    name: "upstream",
    kind: "string",
    context: "server",
    default: null,
    directive: null,
    doc: "The [[upstream]] that logins of this server go to when the auth reply (or static user) names no " +
      "backend.",
    example: 'upstream = "imap_main"',
  },
  {
    name: "timeout",
    kind: "duration",
    context: "mail",
    default: "60s",
    directive: "timeout TIME;",
    doc: "Deadline for the whole pre-proxy phase (greeting to authenticated backend), not per command.",
    example: 'timeout = "30s"',
  },
  {
    name: "server_name",
    kind: "string",
    context: "mail",
    defaultDoc: "machine host name",
    directive: "server_name NAME;",
    doc: "Name used in the SMTP greeting and EHLO, and in the APOP/CRAM-MD5 salt.",
    example: 'server_name = "mail.example.com"',
  },
  {
    name: "resolver",
    kind: "resolver",
    context: "mail",
    default: false,
    directive: "resolver ADDRESS ... | off;",
    doc: "DNS servers used (SMTP only) to look up the client host name; false = off.",
    example: 'resolver = ["127.0.0.53"]',
  },
  {
    name: "resolver_timeout",
    kind: "duration",
    context: "mail",
    default: "30s",
    directive: "resolver_timeout TIME;",
    doc: "Timeout of each DNS lookup.",
    example: 'resolver_timeout = "5s"',
  },
  {
    name: "max_errors",
    kind: "int",
    context: "mail",
    default: 5,
    min: 0,
    max: 1_000_000,
    directive: "max_errors NUMBER;",
    doc: "Close the connection after this many parser-level invalid commands.",
    example: "max_errors = 3",
  },

  // ---- auth --------------------------------------------------------------------------
  {
    name: "auth",
    kind: "enum",
    context: "mail",
    values: ["http", "static"],
    defaultDoc: '"http" when auth_http is set, else "static" when [static_auth] has users',
    directive: null,
    doc: "Who decides logins: the auth_http server or the built-in [static_auth] users.",
    example: 'auth = "static"',
  },
  {
    name: "auth_http",
    kind: "auth_http",
    context: "mail",
    default: null,
    directive: "auth_http URL;",
    doc: "Auth server: [http://]host[:port][/uri] or unix:/path[:/uri]; no https.",
    example: 'auth_http = "http://127.0.0.1:9000/auth"',
  },
  {
    name: "auth_http_header",
    kind: "headers",
    context: "mail",
    default: {},
    directive: "auth_http_header NAME VALUE;",
    doc: "Extra request headers sent to the auth server, in config order.",
    example: 'auth_http_header = { X-Auth-Key = "secret" }',
  },
  {
    name: "auth_http_pass_client_cert",
    kind: "bool",
    context: "mail",
    default: false,
    directive: "auth_http_pass_client_cert on | off;",
    doc: "Send the client certificate (escaped PEM) in Auth-SSL-Cert.",
    example: "auth_http_pass_client_cert = true",
  },
  {
    name: "auth_http_timeout",
    kind: "duration",
    context: "mail",
    default: "60s",
    directive: "auth_http_timeout TIME;",
    doc: "Timeout for connecting to, sending to and reading from the auth server.",
    example: 'auth_http_timeout = "5s"',
  },
  {
    name: "auth_http_keepalive",
    kind: "int",
    context: "mail",
    default: 0,
    min: 0,
    max: 10_000,
    directive: null,
    doc:
      "Idle connections to the auth server kept for reuse (HTTP/1.0 keep-alive). 0 = nginx's way: a new connection per request, no Connection header. When set, requests carry `Connection: keep-alive` and a connection is reused only if the reply says `Connection: keep-alive` and has no body.",
    example: "auth_http_keepalive = 16",
  },
  {
    name: "auth_http_keepalive_timeout",
    kind: "duration",
    context: "mail",
    default: "60s",
    directive: null,
    doc: "How long an idle auth server connection is kept before mailproxy closes it.",
    example: 'auth_http_keepalive_timeout = "30s"',
  },

  // ---- proxy -------------------------------------------------------------------------
  {
    name: "proxy",
    kind: "bool",
    context: "mail",
    default: false,
    directive: "proxy on | off;",
    doc: "Parsed for compatibility; has no effect, as in nginx.",
    example: "proxy = true",
    warning: "has no effect (as in nginx)",
  },
  {
    name: "proxy_buffer",
    kind: "size",
    context: "mail",
    default: PAGE,
    min: 1,
    max: 64 * MIB,
    directive: "proxy_buffer SIZE;",
    doc:
      "Longest backend reply accepted during login. Relay reads start at 1 KiB when idle and grow up to the larger of this and 64k under bulk transfer (nginx relays in pieces of exactly this size).",
    example: 'proxy_buffer = "16k"',
  },
  {
    name: "proxy_pass_error_message",
    kind: "bool",
    context: "mail",
    default: false,
    directive: "proxy_pass_error_message on | off;",
    doc: "Relay the backend's error text to the client when the backend login fails.",
    example: "proxy_pass_error_message = true",
  },
  {
    name: "proxy_protocol",
    kind: "enum",
    context: "mail",
    values: ["off", "v1", "v2"],
    boolAliases: ["off", "v1"],
    default: "off",
    directive: "proxy_protocol on | off | v2;",
    doc: "Send a PROXY protocol header to the backend (true = v1).",
    example: 'proxy_protocol = "v2"',
  },
  {
    name: "proxy_smtp_auth",
    kind: "bool",
    context: "mail",
    default: false,
    directive: "proxy_smtp_auth on | off;",
    doc: "Authenticate to the SMTP backend with AUTH PLAIN.",
    example: "proxy_smtp_auth = true",
  },
  {
    name: "proxy_auth_mech",
    kind: "enum",
    context: "mail",
    values: ["auto", "plain", "oauthbearer", "xoauth2"],
    default: "auto",
    directive: null,
    doc: "How an OAuth login (oauthbearer/xoauth2) logs in to an IMAP backend. auto: with Auth-Pass in the " +
      "auth reply (the auth service swapped the token) the usual LOGIN, else replay the client's mechanism " +
      "with the token (AUTHENTICATE, SASL-IR when offered; refused with a log line when the backend does not " +
      "advertise it); plain: always LOGIN (the token as the password); oauthbearer/xoauth2: always that mechanism.",
    example: 'proxy_auth_mech = "oauthbearer"',
  },
  {
    name: "proxy_timeout",
    kind: "duration",
    context: "mail",
    default: "24h",
    directive: "proxy_timeout TIME;",
    doc: "Idle timeout while relaying (re-armed by client activity only).",
    example: 'proxy_timeout = "10m"',
  },
  {
    name: "xclient",
    kind: "bool",
    context: "mail",
    default: true,
    directive: "xclient on | off;",
    doc: "Send XCLIENT to SMTP backends after EHLO.",
    example: "xclient = false",
  },

  // ---- protocols -------------------------------------------------------------------
  {
    name: "imap_auth",
    kind: "auth_methods",
    context: "mail",
    values: ["plain", "login", "cram-md5", "external", "oauthbearer", "xoauth2"],
    default: ["plain"],
    directive: "imap_auth METHOD ...;",
    doc: "Advertised IMAP AUTH= mechanisms (LOGIN and PLAIN always work); case-insensitive. " +
      "oauthbearer/xoauth2 (OAuth 2.0 bearer tokens, as freenginx 1.27.1) also advertise SASL-IR.",
    example: 'imap_auth = ["plain", "cram-md5"]',
  },
  {
    name: "imap_capabilities",
    kind: "string_list",
    context: "mail",
    default: ["IMAP4", "IMAP4rev1", "UIDPLUS"],
    directive: "imap_capabilities EXTENSION ...;",
    doc: "Base IMAP CAPABILITY tokens.",
    example: 'imap_capabilities = ["IMAP4rev1", "IDLE", "NAMESPACE"]',
  },
  {
    name: "imap_client_buffer",
    kind: "size",
    context: "mail",
    default: PAGE,
    min: 1,
    max: 64 * MIB,
    directive: "imap_client_buffer SIZE;",
    doc:
      "Maximum IMAP command size before login (literals included). Relay reads grow up to the larger of this and 64k, as for proxy_buffer.",
    example: 'imap_client_buffer = "16k"',
  },
  {
    name: "imap_id",
    kind: "bool",
    context: "mail",
    default: false,
    directive: null,
    doc: "Before logging in to an IMAP backend, send ID with x-originating-ip/-port, x-connected-ip/-port " +
      "and x-session-id, so the backend logs the real client (Dovecot: login_trusted_networks).",
    example: "imap_id = true",
  },
  {
    name: "pop3_auth",
    kind: "auth_methods",
    context: "mail",
    values: ["plain", "apop", "cram-md5", "external", "oauthbearer", "xoauth2"],
    default: ["plain"],
    directive: "pop3_auth METHOD ...;",
    doc: "Enabled POP3 mechanisms (plain also enables USER/PASS and LOGIN); case-insensitive. " +
      "oauthbearer/xoauth2: OAuth 2.0 bearer tokens (as freenginx 1.27.1).",
    example: 'pop3_auth = ["plain", "apop"]',
  },
  {
    name: "pop3_capabilities",
    kind: "string_list",
    context: "mail",
    default: ["TOP", "USER", "UIDL"],
    directive: "pop3_capabilities EXTENSION ...;",
    doc: "Base POP3 CAPA lines.",
    example: 'pop3_capabilities = ["TOP", "USER", "UIDL", "PIPELINING"]',
  },
  {
    name: "pop3_client_buffer",
    kind: "size",
    context: "mail",
    default: "8k",
    min: 1,
    max: 64 * MIB,
    directive: null,
    doc: "POP3 command buffer (nginx has a fixed 128 bytes; 8k fits a 4 KiB SASL token).",
    example: 'pop3_client_buffer = "8k"',
  },
  {
    name: "smtp_auth",
    kind: "auth_methods",
    context: "mail",
    values: ["plain", "login", "cram-md5", "external", "none", "oauthbearer", "xoauth2"],
    default: ["plain", "login"],
    directive: "smtp_auth METHOD ...;",
    doc: "Advertised SMTP AUTH mechanisms; none = allow MAIL/RCPT without AUTH; case-insensitive. " +
      "oauthbearer/xoauth2: OAuth 2.0 bearer tokens (as freenginx 1.27.1).",
    example: 'smtp_auth = ["plain", "login", "none"]',
  },
  {
    name: "smtp_capabilities",
    kind: "string_list",
    context: "mail",
    default: [],
    directive: "smtp_capabilities EXTENSION ...;",
    doc: "Extra EHLO lines, one per entry.",
    example: 'smtp_capabilities = ["SIZE 10485760", "8BITMIME"]',
  },
  {
    name: "smtp_client_buffer",
    kind: "size",
    context: "mail",
    default: PAGE,
    min: 1,
    max: 64 * MIB,
    directive: "smtp_client_buffer SIZE;",
    doc:
      "Longest SMTP command before login. Relay reads grow up to the larger of this and 64k, as for proxy_buffer.",
    example: 'smtp_client_buffer = "8k"',
  },
  {
    name: "smtp_greeting_delay",
    kind: "duration",
    context: "mail",
    default: "0s",
    directive: "smtp_greeting_delay TIME;",
    doc: "Wait before the 220 greeting; clients that talk first are rejected.",
    example: 'smtp_greeting_delay = "2s"',
  },

  {
    name: "sieve_auth",
    kind: "auth_methods",
    context: "mail",
    values: ["plain", "login", "cram-md5", "external"],
    default: ["plain", "login"],
    directive: null,
    doc: 'ManageSieve SASL mechanisms advertised in "SASL" and accepted by AUTHENTICATE; case-insensitive.',
    example: 'sieve_auth = ["plain", "login", "external"]',
  },
  {
    name: "sieve_capabilities",
    kind: "string_list",
    context: "mail",
    default: [
      "fileinto",
      "reject",
      "envelope",
      "encoded-character",
      "vacation",
      "subaddress",
      "comparator-i;ascii-numeric",
      "relational",
      "regex",
      "imap4flags",
      "copy",
      "include",
      "variables",
      "body",
      "enotify",
      "environment",
      "mailbox",
      "date",
      "index",
      "ihave",
      "duplicate",
      "mime",
      "foreverypart",
      "extracttext",
    ],
    directive: null,
    doc: 'Sieve extensions in the pre-login "SIEVE" capability (after login, CAPABILITY is answered by the ' +
      "backend itself); the default is Dovecot Pigeonhole's list.",
    example: 'sieve_capabilities = ["fileinto", "vacation", "envelope"]',
  },
  {
    name: "sieve_client_buffer",
    kind: "size",
    context: "mail",
    default: "8k",
    min: 1,
    max: 64 * MIB,
    directive: null,
    doc:
      "Longest ManageSieve command before login (literals included; a longer one ends the session). Relay reads grow up to the larger of this and 64k, as for proxy_buffer.",
    example: 'sieve_client_buffer = "16k"',
  },

  // ---- TLS towards clients ---------------------------------------------------------
  {
    name: "starttls",
    kind: "enum",
    context: "mail",
    values: ["off", "on", "only"],
    boolAliases: ["off", "on"],
    default: "off",
    directive: "starttls on | off | only;",
    doc: "Allow (on) or require (only) STARTTLS/STLS on plain listeners.",
    example: 'starttls = "only"',
  },
  {
    name: "ssl_certificate",
    kind: "path_list",
    context: "mail",
    default: [],
    directive: "ssl_certificate FILE;",
    doc: "Server certificate file(s) in PEM format.",
    example: 'ssl_certificate = "certs/mail.pem"',
  },
  {
    name: "ssl_certificate_key",
    kind: "path_list",
    context: "mail",
    default: [],
    directive: "ssl_certificate_key FILE;",
    doc: "Private key file(s), one per certificate, in the same order.",
    example: 'ssl_certificate_key = "certs/mail.key"',
  },
  {
    name: "ssl_password_file",
    kind: "path",
    context: "mail",
    default: null,
    directive: "ssl_password_file FILE;",
    doc: "Passphrases for encrypted keys, one per line, tried in order.",
    example: 'ssl_password_file = "certs/passphrases"',
  },
  {
    name: "ssl_certificate_compression",
    kind: "unsupported",
    context: "mail",
    accept: false,
    default: false,
    directive: "ssl_certificate_compression on | off;",
    doc: "Not supported by mailproxy; only false (nginx's default) is accepted.",
    example: "ssl_certificate_compression = false",
    reason: "the Node/Bun TLS stack cannot compress certificates; remove the key",
  },
  {
    name: "ssl_dhparam",
    kind: "unsupported",
    context: "mail",
    default: null,
    directive: "ssl_dhparam FILE;",
    doc: "Not supported by mailproxy (ECDHE key exchange only).",
    example: "",
    reason: "mailproxy offers ECDHE key exchange only, so DH parameters are never used; remove the key",
  },
  {
    name: "ssl_ecdh_curve",
    kind: "unsupported",
    context: "mail",
    accept: "auto",
    default: "auto",
    directive: "ssl_ecdh_curve CURVE[:...];",
    doc: 'Not supported by mailproxy; only "auto" (nginx\'s default) is accepted.',
    example: 'ssl_ecdh_curve = "auto"',
    reason: "the TLS runtime always uses its built-in curve list; remove the key",
  },
  {
    name: "ssl_protocols",
    kind: "ssl_protocols",
    context: "mail",
    default: ["TLSv1.2", "TLSv1.3"],
    directive: "ssl_protocols [TLSv1] [TLSv1.1] [TLSv1.2] [TLSv1.3];",
    doc: "Enabled TLS versions.",
    example: 'ssl_protocols = ["TLSv1.3"]',
  },
  {
    name: "ssl_ciphers",
    kind: "string",
    context: "mail",
    default: "HIGH:!aNULL:!MD5",
    directive: "ssl_ciphers CIPHERS;",
    doc: "OpenSSL cipher list for TLS 1.2 and below.",
    example: 'ssl_ciphers = "ECDHE+AESGCM:ECDHE+CHACHA20"',
  },
  {
    name: "ssl_prefer_server_ciphers",
    kind: "bool",
    context: "mail",
    default: false,
    directive: "ssl_prefer_server_ciphers on | off;",
    doc: "Prefer the server's cipher order over the client's.",
    example: "ssl_prefer_server_ciphers = true",
  },
  {
    name: "ssl_session_cache",
    kind: "ssl_session_cache",
    context: "mail",
    default: "none",
    directive: "ssl_session_cache off | none | [builtin[:SIZE]] [shared:NAME:SIZE];",
    doc: "TLS session cache. Only none and off can be served: neither runtime's TLS keeps a session " +
      "cache (builtin and shared are refused by --check); sessions resume through tickets (ssl_session_tickets).",
    example: 'ssl_session_cache = "off"',
  },
  {
    name: "ssl_session_tickets",
    kind: "bool",
    context: "mail",
    default: true,
    directive: "ssl_session_tickets on | off;",
    doc: "Enable TLS session tickets (session resumption, TLS 1.2 and 1.3). Turning them off is " +
      "refused on Deno (rustls always issues them).",
    example: "ssl_session_tickets = false",
  },
  {
    name: "ssl_session_ticket_key",
    kind: "unsupported",
    context: "mail",
    default: null,
    directive: "ssl_session_ticket_key FILE;",
    doc: "Not supported by mailproxy (ticket keys are random per process).",
    example: "",
    reason: "ticket keys are generated at start and rotated by the TLS runtime; remove the key " +
      "(or set ssl_session_tickets = false)",
  },
  {
    name: "ssl_session_timeout",
    kind: "duration",
    context: "mail",
    default: "5m",
    directive: "ssl_session_timeout TIME;",
    doc: "Lifetime of TLS session tickets. Only the default on Deno (rustls: 12 h tickets).",
    example: 'ssl_session_timeout = "1h"',
  },
  {
    name: "ssl_verify_client",
    kind: "enum",
    context: "mail",
    values: ["off", "on", "optional", "optional_no_ca"],
    boolAliases: ["off", "on"],
    default: "off",
    directive: "ssl_verify_client on | off | optional | optional_no_ca;",
    doc: "Client certificate verification.",
    example: 'ssl_verify_client = "optional"',
  },
  {
    name: "ssl_verify_depth",
    kind: "int",
    context: "mail",
    default: 1,
    min: 0,
    max: 100,
    directive: "ssl_verify_depth NUMBER;",
    doc: "Maximum client certificate chain depth.",
    example: "ssl_verify_depth = 2",
  },
  {
    name: "ssl_client_certificate",
    kind: "path",
    context: "mail",
    default: null,
    directive: "ssl_client_certificate FILE;",
    doc: "Trusted CA certificates for client verification, also advertised to clients.",
    example: 'ssl_client_certificate = "certs/ca.pem"',
  },
  {
    name: "ssl_trusted_certificate",
    kind: "path",
    context: "mail",
    default: null,
    directive: "ssl_trusted_certificate FILE;",
    doc: "Trusted CA certificates for client verification, not advertised.",
    example: 'ssl_trusted_certificate = "certs/ca.pem"',
  },
  {
    name: "ssl_crl",
    kind: "path",
    context: "mail",
    default: null,
    directive: "ssl_crl FILE;",
    doc: "Certificate revocation list (PEM) for client verification.",
    example: 'ssl_crl = "certs/crl.pem"',
  },
  {
    name: "ssl_conf_command",
    kind: "unsupported",
    context: "mail",
    default: null,
    directive: "ssl_conf_command NAME VALUE;",
    doc: "Not supported by mailproxy (no raw OpenSSL access).",
    example: "",
    reason: "the Node/Bun TLS API has no SSL_CONF access; use ssl_protocols / ssl_ciphers instead",
  },
  {
    name: "ssl",
    kind: "removed",
    context: "mail",
    directive: "ssl on | off;",
    doc: "Removed from nginx in 1.25.1.",
    example: "",
    reason: 'was removed from nginx in 1.25.1; use listen = "993 ssl"',
  },

  {
    name: "ssl_sni",
    kind: "sni",
    context: "mail",
    default: [],
    directive: null,
    doc: "Certificates chosen by the name the client asks for (TLS SNI); other names get ssl_certificate. " +
      'Write one [[ssl_sni]] (or [[server.ssl_sni]]) table per name; "*.example.org" matches one label.',
    example: '[[server.ssl_sni]]\nname = "mail.example.org"\nssl_certificate = "certs/example.pem"\n' +
      'ssl_certificate_key = "certs/example.key"',
  },

  // ---- TLS towards backends (mailproxy only) ---------------------------------------
  {
    name: "backend_tls",
    kind: "enum",
    context: "mail",
    values: ["off", "on", "starttls"],
    boolAliases: ["off", "on"],
    default: "off",
    directive: null,
    doc: "TLS to the backend: on = right after connect (IMAPS/POP3S/SMTPS), starttls = the protocol's " +
      "STARTTLS/STLS first. The auth service can override it per login with Auth-Backend-TLS.",
    example: 'backend_tls = "starttls"',
  },
  {
    name: "backend_tls_ca",
    kind: "path",
    context: "mail",
    default: null,
    defaultDoc: "the runtime's root certificates",
    directive: null,
    doc: "CA certificates (PEM) that backend certificates must chain to.",
    example: 'backend_tls_ca = "certs/backend-ca.pem"',
  },
  {
    name: "backend_tls_verify",
    kind: "bool",
    context: "mail",
    default: true,
    directive: null,
    doc: "Verify the backend's certificate (chain and name); false accepts any certificate.",
    example: "backend_tls_verify = false",
  },
  {
    name: "backend_tls_name",
    kind: "string",
    context: "mail",
    default: null,
    defaultDoc: "the backend's IP address (Auth-Server)",
    directive: null,
    doc: "Host name the backend certificate must carry (also sent as SNI).",
    example: 'backend_tls_name = "imap.internal.example"',
  },
  {
    name: "backend_tls_certificate",
    kind: "path",
    context: "mail",
    default: null,
    directive: null,
    doc: "Client certificate (PEM) mailproxy presents to backends.",
    example: 'backend_tls_certificate = "certs/proxy-client.pem"',
  },
  {
    name: "backend_tls_certificate_key",
    kind: "path",
    context: "mail",
    default: null,
    directive: null,
    doc: "Key of backend_tls_certificate (may be encrypted: ssl_password_file).",
    example: 'backend_tls_certificate_key = "certs/proxy-client.key"',
  },

  // ---- realip / logging --------------------------------------------------------------
  {
    name: "set_real_ip_from",
    kind: "real_ip_list",
    context: "mail",
    default: [],
    directive: "set_real_ip_from ADDRESS | CIDR | HOSTNAME | unix:;",
    doc: "Trusted senders of PROXY protocol headers; their header's source becomes the client address. " +
      "Headers from other peers are read as nginx reads them (their addresses only reach auth_http).",
    example: 'set_real_ip_from = ["10.0.0.0/8", "unix:"]',
  },
  {
    name: "access",
    kind: "access_list",
    context: "mail",
    default: [],
    directive: "allow ADDRESS | CIDR | unix: | all; deny ADDRESS | CIDR | unix: | all;",
    doc: "allow/deny rules checked in order on the client address (after PROXY protocol); the first match " +
      "decides, no match allows. Each entry is { allow = ADDR } or { deny = ADDR }.",
    example: 'access = [{ allow = "10.0.0.0/8" }, { allow = "2001:db8::/32" }, { deny = "all" }]',
  },
  {
    name: "error_log",
    kind: "error_log",
    context: "mail",
    default: null,
    defaultDoc: "stderr, at [log] level",
    directive: "error_log FILE [LEVEL];",
    doc: "Where log lines go, one entry per target: stderr, a file (reopened on SIGUSR1) or " +
      "syslog:server=ADDRESS[:PORT]|unix:PATH[,facility=F][,tag=T][,nohostname][,transport=udp|tcp] " +
      "(RFC 5424); LEVEL defaults to error, as in nginx. At the top level: every line (process and " +
      "sessions); in a [[server]]: that server's session lines instead.",
    example:
      'error_log = ["/var/log/mailproxy/mail.log info", "syslog:server=unix:/dev/log,facility=mail warn"]',
  },

  // ---- [admin] -----------------------------------------------------------------------
  {
    name: "listen",
    kind: "listen_one",
    context: "admin",
    default: "127.0.0.1:8080",
    directive: null,
    doc: 'Address of the admin HTTP API ("host:port", "port" or "unix:/path").',
    example: 'listen = "127.0.0.1:8080"',
  },
  {
    name: "token",
    kind: "string",
    context: "admin",
    default: null,
    directive: null,
    doc: "Bearer token required on every admin request when set.",
    example: 'token = "change-me"',
  },
  {
    name: "allow_unauthenticated",
    kind: "bool",
    context: "admin",
    default: false,
    directive: null,
    doc: "Serve the admin API without a token on an address that is not loopback (refused otherwise: " +
      "anyone who reaches it could list sessions, kick users and reload). Loopback and UNIX sockets " +
      "never need it.",
    example: "allow_unauthenticated = true",
  },

  // ---- [login_limits] ----------------------------------------------------------------
  {
    name: "ip",
    kind: "limit_rule",
    context: "login_limits",
    default: { failures: 10, window: "10m", block: "15m" },
    directive: null,
    doc: "Failed logins per client network (IPv4 /32, IPv6 /64) within `window` that block it for `block` " +
      "with the protocol's temporary failure (IMAP NO [UNAVAILABLE], POP3 -ERR [SYS/TEMP], SMTP 454 4.7.0, " +
      "ManageSieve NO (TRYLATER)); false = not counted.",
    example: 'ip = { failures = 10, window = "10m", block = "15m" }',
  },
  {
    name: "user",
    kind: "limit_rule",
    context: "login_limits",
    default: { failures: 10, window: "1h", block: "15m" },
    directive: null,
    doc: "Distinct wrong passwords for one user within `window` that block logins as that user for " +
      "`block` (one stale password retried counts once); exempt and known networks are not blocked by " +
      "it. false = not counted.",
    example: 'user = { failures = 10, window = "1h", block = "15m" }',
  },
  {
    name: "delay",
    kind: "duration_list",
    context: "login_limits",
    default: ["2s", "4s", "8s", "15s"],
    directive: null,
    doc: "Delay before the 1st, 2nd, … failure reply to a client network within its window (the last " +
      "repeats); [] = none. An auth service's Auth-Wait applies when longer.",
    example: 'delay = ["2s", "4s", "8s", "15s"]',
  },
  {
    name: "exempt",
    kind: "cidr_list",
    context: "login_limits",
    default: [],
    directive: null,
    doc: "Networks never delayed nor blocked (webmail, trusted relays).",
    example: 'exempt = ["10.0.0.0/8"]',
  },
  {
    name: "known_ip",
    kind: "age",
    context: "login_limits",
    default: "30d",
    directive: null,
    doc: "A client network that logged in as a user within this time is not blocked by that user's " +
      'counter (an attacker cannot lock the owner out); "0s" = off.',
    example: 'known_ip = "30d"',
  },

  // ---- [auth_cache] ------------------------------------------------------------------
  {
    name: "ttl",
    kind: "duration",
    context: "auth_cache",
    default: "5m",
    directive: null,
    doc: "How long an accepted login is answered from the cache (Auth-Cache-TTL in a reply overrides it; " +
      "Auth-Cache: no keeps a reply out).",
    example: 'ttl = "5m"',
  },
  {
    name: "negative_ttl",
    kind: "duration",
    context: "auth_cache",
    default: "30s",
    directive: null,
    doc: 'How long a refused login is answered from the cache; "0s" = refusals are not cached.',
    example: 'negative_ttl = "30s"',
  },
  {
    name: "stale_if_error",
    kind: "duration",
    context: "auth_cache",
    default: "0s",
    directive: null,
    doc: "How long after its ttl an accepted login may still be answered from the cache while the auth " +
      "service fails (errors, not refusals). Off by default: a disabled account would keep logging in.",
    example: 'stale_if_error = "1h"',
  },
  {
    name: "client_ip",
    kind: "bool",
    context: "auth_cache",
    default: false,
    directive: null,
    doc: "Make the client address part of the key (for auth services whose answer depends on it).",
    example: "client_ip = true",
  },
  {
    name: "max_entries",
    kind: "int",
    context: "auth_cache",
    default: 100000,
    min: 1,
    max: 100_000_000,
    directive: null,
    doc: "Most entries kept in memory; the oldest go first.",
    example: "max_entries = 100000",
  },

  // ---- [log] -------------------------------------------------------------------------
  {
    name: "level",
    kind: "enum",
    context: "log",
    values: ["debug", "info", "warning", "error"],
    default: "info",
    directive: null,
    doc: "Lowest level written to stderr when no error_log is set (error_log entries carry their own level).",
    example: 'level = "debug"',
  },
  {
    name: "format",
    kind: "enum",
    context: "log",
    values: ["text", "json"],
    default: "text",
    directive: null,
    doc: "Log line format.",
    example: 'format = "json"',
  },

  // ---- [static_auth] ---------------------------------------------------------------
  {
    name: "backend",
    kind: "backend",
    context: "static_auth",
    default: {},
    directive: null,
    doc: 'Default backend of all users: "ip:port" for every protocol, or a table per protocol.',
    example: 'backend = { imap = "127.0.0.1:143", pop3 = "127.0.0.1:110", smtp = "127.0.0.1:25" }',
  },
  {
    name: "failure_wait",
    kind: "duration",
    context: "static_auth",
    default: "2s",
    directive: null,
    doc:
      "Delay before a failed static login is answered (whole seconds, sent like Auth-Wait); slows guessing.",
    example: 'failure_wait = "3s"',
  },
  {
    name: "user",
    kind: "table_array",
    context: "static_auth",
    default: [],
    directive: null,
    doc: "One built-in user; write one [[static_auth.user]] table per user.",
    example: '[[static_auth.user]]\nname = "alice"\npassword = "$scrypt$..."',
  },
  {
    name: "name",
    kind: "string",
    context: "static_auth.user",
    required: true,
    defaultDoc: "required",
    directive: null,
    doc: "Login name (exact match).",
    example: 'name = "alice"',
  },
  {
    name: "password",
    kind: "password_hash",
    context: "static_auth.user",
    required: true,
    defaultDoc: "required",
    directive: null,
    doc: 'Password hash made by `mailproxy hash-password` ("$scrypt$..."); plaintext is rejected.',
    example: 'password = "$scrypt$ln=15,r=8,p=1$...$..."',
  },
  {
    name: "backend",
    kind: "backend",
    context: "static_auth.user",
    default: null,
    defaultDoc: "[static_auth].backend",
    directive: null,
    doc: "This user's backend, overriding [static_auth].backend per protocol.",
    example: 'backend = { imap = "10.0.0.7:143" }',
  },
  // ---- [[upstream]] --------------------------------------------------------------------
  {
    name: "name",
    kind: "string",
    context: "upstream",
    required: true,
    defaultDoc: "required",
    directive: null,
    doc: "The upstream's name (Auth-Upstream, a server's upstream, \"upstream:NAME\", the admin API).",
    example: 'name = "imap_main"',
  },
  {
    name: "protocol",
    kind: "enum",
    context: "upstream",
    values: ["imap", "pop3", "smtp", "sieve"],
    required: true,
    defaultDoc: "required",
    directive: null,
    doc: "The protocol its servers speak; only servers of that protocol may use it.",
    example: 'protocol = "imap"',
  },
  {
    name: "hash",
    kind: "enum",
    context: "upstream",
    values: ["user", "domain", "none"],
    default: "user",
    directive: "hash KEY consistent;",
    doc: "Affinity key: user = the login name the backend sees, domain = its part after @, none = no " +
      "affinity (least connections).",
    example: 'hash = "domain"',
  },
  {
    name: "sticky",
    kind: "duration",
    context: "upstream",
    default: "15m",
    directive: null,
    doc: "How long a user stays on its server after its last session ended (Dovecot director_user_expire); " +
      "0 = only while it has sessions.",
    example: 'sticky = "1h"',
  },
  {
    name: "max_reconnects",
    kind: "int",
    context: "upstream",
    default: 2,
    min: 0,
    max: 16,
    directive: null,
    doc: "After a transport failure (refused, timeout, no greeting, closed before the login reply), how " +
      "many more servers a login tries, in hash order. A rejected password is never retried.",
    example: "max_reconnects = 1",
  },
  {
    name: "health_check",
    kind: "health_check",
    context: "upstream",
    default: { interval: "5s", timeout: "2s", fails: 2, passes: 2 },
    directive: "health_check interval=TIME fails=N passes=N; (nginx plus)",
    doc: "Active checks (connect and the protocol's greeting) every interval; a server is down after fails " +
      "failed checks or failed login connects in a row, up again after passes good checks. interval = 0 " +
      "turns active checks off.",
    example: 'health_check = { interval = "10s", timeout = "3s", fails = 3, passes = 1 }',
  },
  {
    name: "backend_tls",
    kind: "enum",
    context: "upstream",
    values: ["off", "on", "starttls"],
    boolAliases: ["off", "on"],
    default: null,
    defaultDoc: "the server's backend_tls",
    directive: null,
    doc: "TLS to this upstream's servers (as backend_tls, with the server's backend_tls_* settings).",
    example: 'backend_tls = "on"',
  },
  {
    name: "proxy_protocol",
    kind: "enum",
    context: "upstream",
    values: ["off", "v1", "v2"],
    boolAliases: ["off", "v1"],
    default: null,
    defaultDoc: "the server's proxy_protocol",
    directive: null,
    doc: "PROXY protocol header to this upstream's servers (as proxy_protocol).",
    example: 'proxy_protocol = "v2"',
  },
  {
    name: "server",
    kind: "table_array",
    context: "upstream",
    default: [],
    directive: "server ADDRESS [weight=N] [backup] [down];",
    doc: "The pool's servers: an array of { address, weight, backup, state }.",
    example:
      'server = [{ address = "10.0.0.11:143", weight = 2 }, { address = "10.0.0.13:143", backup = true }]',
  },
  {
    name: "address",
    kind: "backend_address",
    context: "upstream.server",
    required: true,
    defaultDoc: "required",
    directive: null,
    doc: 'The server\'s "ip:port".',
    example: 'address = "10.0.0.11:143"',
  },
  {
    name: "weight",
    kind: "int",
    context: "upstream.server",
    default: 1,
    min: 1,
    max: 1000,
    directive: "weight=N",
    doc: "Relative share of users (weighted rendezvous hashing) or of connections (hash = none).",
    example: "weight = 2",
  },
  {
    name: "backup",
    kind: "bool",
    context: "upstream.server",
    default: false,
    directive: "backup",
    doc: "Used only while no other server of the upstream is up.",
    example: "backup = true",
  },
  {
    name: "state",
    kind: "enum",
    context: "upstream.server",
    values: ["up", "drain", "down"],
    default: "up",
    directive: "down / drain",
    doc: "up; drain = keeps its users' existing affinity but takes no new users; down = takes nobody. The " +
      "admin API changes it at runtime.",
    example: 'state = "drain"',
  },
] as const satisfies readonly KeySpec[];

/** Every configuration key, grouped by context, in documentation order. */
export const CONFIG_KEYS: readonly KeySpec[] = ROWS;

/** One row of {@link CONFIG_KEYS} with its literal types (for type derivations). */
export type SchemaRow = (typeof ROWS)[number];

/** A table of the config file: the top level, a `[[server]]`, or one of the sub-tables. */
export type TableName =
  | "top"
  | "server"
  | "admin"
  | "log"
  | "login_limits"
  | "auth_cache"
  | "static_auth"
  | "static_auth.user"
  | "upstream"
  | "upstream.server";

/**
 * The keys allowed in a table. The top level and `[[server]]` both accept the
 * inheritable `mail` keys besides their own.
 */
export function keysFor(table: TableName): KeySpec[] {
  if (table === "top" || table === "server") {
    return CONFIG_KEYS.filter((k) => k.context === table || k.context === "mail");
  }
  return CONFIG_KEYS.filter((k) => k.context === table);
}

/** Looks a key up in a table. */
export function findKey(table: TableName, name: string): KeySpec | undefined {
  return keysFor(table).find((k) => k.name === name);
}

/** The keys a server inherits from the top level (context `mail`). */
export const MAIL_LEVEL_KEYS: readonly KeySpec[] = CONFIG_KEYS.filter((k) => k.context === "mail");

/** Mail-level keys read for nginx compatibility but not kept in a server (`proxy` is a no-op). */
export const NOT_STORED_IN_SERVER = ["proxy"] as const;

/**
 * Whether a resolved `[[server]]` has a field for this key: mail-level and server-only keys,
 * minus those recognised only to refuse them and {@link NOT_STORED_IN_SERVER}. `ServerRow`
 * in types.ts is the same filter on the type level; a test checks the loader's output
 * against this one.
 */
export function isServerKey(spec: KeySpec): boolean {
  return (spec.context === "mail" || spec.context === "server") && spec.kind !== "unsupported" &&
    spec.kind !== "removed" && !(NOT_STORED_IN_SERVER as readonly string[]).includes(spec.name);
}
