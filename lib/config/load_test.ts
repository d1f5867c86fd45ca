import assert from "node:assert/strict";
import { hostname } from "node:os";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { loadConfigFile, loadConfigText } from "./load.ts";
import { certDir, HASH, loadErrors, loadOk, MINIMAL } from "./testing.ts";

Deno.test("defaults equal nginx's (spec §6.6)", () => {
  const config = loadOk(MINIMAL);
  const s = config.servers[0];
  assert.equal(s.timeout, 60_000);
  assert.equal(s.server_name, hostname());
  assert.equal(s.resolver, false);
  assert.equal(s.resolver_timeout, 30_000);
  assert.equal(s.max_errors, 5);
  assert.equal(s.auth_http_timeout, 60_000);
  assert.deepEqual(s.auth_http_header, []);
  assert.equal(s.auth_http_pass_client_cert, false);
  assert.equal(s.proxy_buffer, 4096);
  assert.equal(s.imap_client_buffer, 4096);
  assert.equal(s.smtp_client_buffer, 4096);
  assert.equal(s.pop3_client_buffer, 8192);
  assert.equal(s.proxy_timeout, 86_400_000);
  assert.equal(s.xclient, true);
  assert.equal(s.proxy_smtp_auth, false);
  assert.equal(s.proxy_pass_error_message, false);
  assert.equal(s.proxy_protocol, "off");
  assert.deepEqual(s.imap_auth, ["plain"]);
  assert.deepEqual(s.pop3_auth, ["plain"]);
  assert.deepEqual(s.smtp_auth, ["plain", "login"]);
  assert.deepEqual(s.imap_capabilities, ["IMAP4", "IMAP4rev1", "UIDPLUS"]);
  assert.deepEqual(s.pop3_capabilities, ["TOP", "USER", "UIDL"]);
  assert.deepEqual(s.smtp_capabilities, []);
  assert.equal(s.smtp_greeting_delay, 0);
  assert.equal(s.starttls, "off");
  assert.deepEqual(s.ssl_certificate, []);
  assert.deepEqual(s.ssl_certificate_key, []);
  assert.equal(s.ssl_password_file, null);
  assert.deepEqual(s.ssl_protocols, ["TLSv1.2", "TLSv1.3"]);
  assert.equal(s.ssl_ciphers, "HIGH:!aNULL:!MD5");
  assert.equal(s.ssl_prefer_server_ciphers, false);
  assert.equal(s.ssl_session_cache, "none");
  assert.equal(s.ssl_session_tickets, true);
  assert.equal(s.ssl_session_timeout, 300_000);
  assert.equal(s.ssl_verify_client, "off");
  assert.equal(s.ssl_verify_depth, 1);
  assert.equal(s.ssl_client_certificate, null);
  assert.equal(s.ssl_trusted_certificate, null);
  assert.equal(s.ssl_crl, null);
  assert.deepEqual(s.set_real_ip_from, []);
  assert.equal(s.auth, "http");
  assert.deepEqual(config.admin, { listen: null, token: null });
  assert.deepEqual(config.log, { level: "info", format: "text" });
  assert.equal(config.worker_processes, 1);
  assert.deepEqual(config.static_auth, { backend: {}, users: [], failure_wait: 2000 });
  assert.deepEqual(config.warnings, []);
  assert.equal(config.file, join(Deno.cwd(), "proxy.toml"));
  for (const [key, value] of Object.entries(s)) {
    assert.notEqual(value, undefined, `server.${key} is undefined`);
  }
});

Deno.test("servers inherit mail-level keys; a server's own value replaces, never merges", () => {
  const config = loadOk(`
timeout = "30s"
imap_capabilities = ["IMAP4rev1", "IDLE"]
auth_http_header = { X-A = "1", X-B = "2" }
auth_http = "http://127.0.0.1:9000/"

[[server]]
listen = "127.0.0.1:1143"
protocol = "imap"

[[server]]
listen = "127.0.0.1:1144"
protocol = "imap"
timeout = 5
imap_capabilities = "NAMESPACE"
auth_http_header = { X-C = "3" }
`);
  const [a, b] = config.servers;
  assert.equal(a.timeout, 30_000);
  assert.deepEqual(a.imap_capabilities, ["IMAP4rev1", "IDLE"]);
  assert.deepEqual(a.auth_http_header, [["X-A", "1"], ["X-B", "2"]]);
  assert.equal(b.timeout, 5000, "TOML integer durations are seconds");
  assert.deepEqual(b.imap_capabilities, ["NAMESPACE"]);
  assert.deepEqual(b.auth_http_header, [["X-C", "3"]]);
  assert.equal(b.auth_http?.uri, "/");
  assert.deepEqual([a.index, b.index, a.line, b.line], [0, 1, 7, 11]);
});

Deno.test("protocol detection by the first known listen port", () => {
  const cases: [string, string][] = [["110", "pop3"], ["995 ssl", "pop3"], ["143", "imap"], ["993", "imap"]];
  for (
    const [port, protocol] of [...cases, ["25", "smtp"], ["465", "smtp"], ["587", "smtp"], ["4190", "sieve"]]
  ) {
    const config = loadOk(
      `auth_http = "127.0.0.1"\nstarttls = false\n[[server]]\nlisten = "${port.split(" ")[0]}"\n`,
    );
    assert.equal(config.servers[0].protocol, protocol, port);
  }
  const mixed = loadOk(`auth_http = "a:1"\n[[server]]\nlisten = ["127.0.0.1:1025", "127.0.0.1:587"]\n`);
  assert.equal(mixed.servers[0].protocol, "smtp");
  const explicit = loadOk(`auth_http = "a:1"\n[[server]]\nlisten = "143"\nprotocol = "pop3"\n`);
  assert.equal(explicit.servers[0].protocol, "pop3", "explicit protocol wins");
  assert.deepEqual(loadErrors(`auth_http = "a:1"\n[[server]]\nlisten = "127.0.0.1:1143"\n`), [
    'proxy.toml:2: unknown mail protocol for server in [[server]] #1 (set protocol = "imap", "pop3", "smtp" or "sieve")',
  ]);
});

Deno.test("a misspelt key gets a suggestion and its own line", () => {
  const errors = loadErrors(`${MINIMAL}
[[server]]
listen = "127.0.0.1:1110"
protocol = "pop3"

timout = "5s"
`);
  assert.deepEqual(errors, [
    'proxy.toml:10: unknown key "timout" in [[server]] #2 — did you mean "timeout"?',
  ]);
  assert.deepEqual(loadErrors(`tiemout = 1\n${MINIMAL}`), [
    'proxy.toml:1: unknown key "tiemout" at the top level — did you mean "timeout"?',
  ]);
  assert.deepEqual(loadErrors(`${MINIMAL}bananas = 1\n`), [
    'proxy.toml:5: unknown key "bananas" in [[server]] #1',
  ]);
});

Deno.test("nginx leftovers are rejected with the replacement", () => {
  assert.deepEqual(loadErrors(`ssl = "on"\n${MINIMAL}`), [
    'proxy.toml:1: "ssl" was removed from nginx in 1.25.1; use listen = "993 ssl"',
  ]);
  assert.deepEqual(loadErrors(`${MINIMAL}ssl = true\n`), [
    'proxy.toml:5: "ssl" was removed from nginx in 1.25.1; use listen = "993 ssl"',
  ]);
  assert.deepEqual(loadErrors(`xclient = "off"\n${MINIMAL}`), [
    'proxy.toml:1: "xclient" at the top level: "off" is nginx syntax; use true/false (without quotes)',
  ]);
  assert.deepEqual(loadErrors(`[mail]\ntimeout = "1s"\n[[server]]\nlisten = "143"\nauth_http = "a:1"\n`), [
    "proxy.toml:1: there is no [mail] table: mail-level keys go at the top level of the file, before the first " +
    "[[server]] or other table",
  ]);
  assert.deepEqual(loadErrors(`auth_http = "a:1"\n[server]\nlisten = "143"\n`), [
    'proxy.toml:2: "server" must be an array of tables: write [[server]] instead of [server]',
  ]);
  assert.deepEqual(loadErrors(`${MINIMAL}worker_processes = 2\n`), [
    'proxy.toml:5: "worker_processes" is only allowed at the top level (keys after a [[server]] header ' +
    "belong to that server; move it above the first [[server]])",
  ]);
  assert.deepEqual(loadErrors(`listen = "143"\n${MINIMAL}`), [
    'proxy.toml:1: "listen" is only allowed in a [[server]] table',
  ]);
  assert.deepEqual(loadErrors(`level = "debug"\n${MINIMAL}`), [
    'proxy.toml:1: unknown key "level" at the top level (it belongs in [log])',
  ]);
  assert.deepEqual(loadErrors(`proxy_protocol = "on"\n${MINIMAL}`), [
    'proxy.toml:1: "proxy_protocol" at the top level: "on" is nginx syntax; use true/false (without quotes)',
  ]);
});

Deno.test("unsupported nginx keys fail clearly, except their default value", () => {
  const errors = loadErrors(`ssl_dhparam = "dh.pem"\nssl_ecdh_curve = "prime256v1"\n${MINIMAL}`);
  assert.equal(errors.length, 2);
  assert.match(errors[0], /^proxy\.toml:1: "ssl_dhparam" is not supported by mailproxy: /);
  assert.match(errors[1], /^proxy\.toml:2: "ssl_ecdh_curve" is not supported by mailproxy: /);
  loadOk(`ssl_ecdh_curve = "auto"\nssl_certificate_compression = false\n${MINIMAL}`);
});

Deno.test("proxy is accepted with a warning", () => {
  const config = loadOk(`proxy = true\n${MINIMAL}`);
  assert.deepEqual(config.warnings, ['proxy.toml:1: "proxy" has no effect (as in nginx)']);
});

Deno.test("a proxy_protocol listen without set_real_ip_from is valid, with a warning (nginx accepts it)", () => {
  const config = loadOk(
    `auth_http = "http://127.0.0.1:9000/auth"\n[[server]]\nlisten = "127.0.0.1:1143 proxy_protocol"\nprotocol = "imap"\n`,
  );
  assert.equal(config.warnings.length, 1);
  assert.match(
    config.warnings[0],
    /^proxy\.toml:2: .*listen "127\.0\.0\.1:1143 proxy_protocol" reads PROXY protocol headers but set_real_ip_from is empty.*Proxy-Protocol-\* headers.*not trusted as the client address/,
  );
  const trusted = loadOk(
    `auth_http = "http://127.0.0.1:9000/auth"\nset_real_ip_from = ["10.0.0.1"]\n[[server]]\nlisten = "127.0.0.1:1143 proxy_protocol"\nprotocol = "imap"\n`,
  );
  assert.deepEqual(trusted.warnings, []);
});

Deno.test("value kinds: booleans aliases, auth methods, lists", () => {
  const config = loadOk(`${MINIMAL}
starttls = false
proxy_protocol = true
ssl_verify_client = false
imap_auth = ["PLAIN", "Cram-MD5", "plain"]
smtp_auth = "none"
resolver = "127.0.0.53 [::1]:5353"
set_real_ip_from = ["10.0.0.0/8", "unix:", "lb.example.com"]
ssl_protocols = "TLSv1.2 tlsv1.3"
server_name = "mx.example.com"
proxy_buffer = 16384
smtp_greeting_delay = "500ms"
ssl_session_cache = "builtin:1000 shared:MAIL:10m"
`);
  const s = config.servers[0];
  assert.equal(s.starttls, "off");
  assert.equal(s.proxy_protocol, "v1");
  assert.equal(s.ssl_verify_client, "off");
  assert.deepEqual(s.imap_auth, ["plain", "cram-md5"]);
  assert.deepEqual(s.smtp_auth, ["none"]);
  assert.deepEqual(s.resolver, ["127.0.0.53", "[::1]:5353"]);
  assert.deepEqual(s.set_real_ip_from, ["10.0.0.0/8", "unix:", "lb.example.com"]);
  assert.deepEqual(s.ssl_protocols, ["TLSv1.2", "TLSv1.3"]);
  assert.equal(s.server_name, "mx.example.com");
  assert.equal(s.proxy_buffer, 16384);
  assert.equal(s.smtp_greeting_delay, 500);
  assert.equal(s.ssl_session_cache, "builtin:1000 shared:MAIL:10m");
  assert.deepEqual(config.warnings, [
    'proxy.toml:9: "imap_auth" in [[server]] #1: method "plain" is listed twice',
  ]);
});

Deno.test("bad values: one line per problem, with key, place and line", () => {
  const errors = loadErrors(`timeout = "soon"
proxy_buffer = "4kb"
max_errors = -1
imap_auth = ["plain", "scram-sha-1"]
starttls = "maybe"
resolver = true
set_real_ip_from = "10.0.0.1/33"
ssl_protocols = ["SSLv3"]
auth_http = "https://auth.example.com/"
auth_http_header = { "Bad Name" = "x" }
smtp_capabilities = ["SIZE\\n1"]
worker_processes = 0
[[server]]
listen = "127.0.0.1:1143"
protocol = "imap"
`);
  assert.deepEqual(errors, [
    'proxy.toml:1: "timeout" at the top level: invalid duration "soon" (e.g. "60s", "500ms", "5m", "1h30m")',
    'proxy.toml:2: "proxy_buffer" at the top level: invalid size "4kb" (e.g. "4k", "64K", "1m", or bytes)',
    'proxy.toml:3: "max_errors" at the top level: the integer -1 is too small (at least 0)',
    'proxy.toml:4: "imap_auth" at the top level: unknown method "scram-sha-1" (allowed: plain, login, cram-md5, external, oauthbearer, xoauth2)',
    'proxy.toml:5: "starttls" at the top level: invalid value "maybe" (expected one of "off", "on", "only" ' +
    "(or off = false, true))",
    'proxy.toml:6: "resolver" at the top level: use false to turn the resolver off, or a list of DNS server addresses',
    'proxy.toml:7: "set_real_ip_from" at the top level: invalid CIDR "10.0.0.1/33"',
    'proxy.toml:8: "ssl_protocols" at the top level: "SSLv3" is not supported by mailproxy (the TLS runtime has ' +
    "no SSLv2/SSLv3)",
    'proxy.toml:9: "auth_http" at the top level: auth_http does not support https (as in nginx); use a local ' +
    "http endpoint",
    'proxy.toml:10: "auth_http_header" at the top level: invalid header name "Bad Name"',
    'proxy.toml:11: "smtp_capabilities" at the top level: must not contain line breaks or NUL',
    'proxy.toml:12: "worker_processes" at the top level: expected "auto" or an integer from 1 to 1024, got the ' +
    "integer 0",
  ]);
});

Deno.test("every error is collected, in file order, across servers", () => {
  const errors = loadErrors(`
[[server]]
listen = "127.0.0.1:1143 bogus"
timeout = "x"

[[server]]
protocol = "imap"

[[server]]
listen = "127.0.0.1:1144"
`);
  assert.deepEqual(errors, [
    'proxy.toml:2: no "auth_http" is defined for server (and no [static_auth] users) in [[server]] #1',
    'proxy.toml:3: "listen" in [[server]] #1: invalid parameter "bogus" (in "127.0.0.1:1143 bogus")',
    'proxy.toml:4: "timeout" in [[server]] #1: invalid duration "x" (e.g. "60s", "500ms", "5m", "1h30m")',
    'proxy.toml:6: no "listen" is defined for server in [[server]] #2',
    'proxy.toml:6: no "auth_http" is defined for server (and no [static_auth] users) in [[server]] #2',
    'proxy.toml:9: unknown mail protocol for server in [[server]] #3 (set protocol = "imap", "pop3", "smtp" or "sieve")',
    'proxy.toml:9: no "auth_http" is defined for server (and no [static_auth] users) in [[server]] #3',
  ]);
});

Deno.test("duplicate address and port pairs, admin included", () => {
  const errors = loadErrors(`auth_http = "a:1"
[[server]]
listen = ["143", "127.0.0.1:1143"]
[[server]]
listen = [
  "localhost:1143",
  "*:143",
]
protocol = "imap"
[admin]
listen = "127.0.0.1:1143"
`);
  assert.deepEqual(errors, [
    'proxy.toml:6: duplicate "127.0.0.1:1143" address and port pair in [[server]] #2 (first used in [[server]] #1, ' +
    "line 3)",
    'proxy.toml:7: duplicate "0.0.0.0:143" address and port pair in [[server]] #2 (first used in [[server]] #1, line 3)',
    'proxy.toml:11: duplicate "127.0.0.1:1143" address and port pair in [admin] (first used in [[server]] #1, line 3)',
  ]);
  // A wildcard and a specific address on the same port are different sockets (nginx `bind`).
  loadOk(`auth_http = "a:1"\n[[server]]\nlisten = ["143", "127.0.0.1:143"]\n`);
});

Deno.test("TLS needs certificates and keys; files must exist", () => {
  const dir = certDir();
  assert.deepEqual(loadErrors(`auth_http = "a:1"\n[[server]]\nlisten = "993 ssl"\n`, dir), [
    'proxy.toml:2: no "ssl_certificate" is defined for the "listen ... ssl" directive in [[server]] #1',
    'proxy.toml:2: no "ssl_certificate_key" is defined for the "listen ... ssl" directive in [[server]] #1',
  ]);
  assert.deepEqual(
    loadErrors(
      `auth_http = "a:1"\nssl_certificate = "cert.pem"\n[[server]]\nlisten = "143"\nstarttls = "only"\n`,
      dir,
    ),
    ['proxy.toml:3: no "ssl_certificate_key" is defined for the "starttls" directive in [[server]] #1'],
  );
  assert.deepEqual(
    loadErrors(
      `auth_http = "a:1"\nssl_certificate = ["cert.pem", "cert2.pem"]\nssl_certificate_key = "key.pem"\n` +
        `[[server]]\nlisten = "993 ssl"\n`,
      dir,
    ),
    [`proxy.toml:2: no "ssl_certificate_key" is defined for certificate "${
      join(dir, "cert2.pem")
    }" in [[server]] #1`],
  );
  assert.deepEqual(
    loadErrors(
      `ssl_certificate = "missing.pem"\nssl_certificate_key = "/no/such/key.pem"\nssl_crl = "${dir}"\n${MINIMAL}`,
      dir,
    ),
    [
      `proxy.toml:1: ssl_certificate "${join(dir, "missing.pem")}": No such file or directory`,
      'proxy.toml:2: ssl_certificate_key "/no/such/key.pem": No such file or directory',
      `proxy.toml:3: ssl_crl "${dir}": Is a directory`,
    ],
  );
  const ok = loadOk(
    `auth_http = "a:1"\nssl_certificate = "cert.pem"\nssl_certificate_key = "key.pem"\n` +
      `[[server]]\nlisten = "993 ssl"\n`,
    dir,
  );
  assert.deepEqual(ok.servers[0].ssl_certificate, [join(dir, "cert.pem")]);
  assert.deepEqual(ok.servers[0].ssl_certificate_key, [join(dir, "key.pem")]);
});

Deno.test("ssl_verify_client on/optional needs a CA; optional_no_ca does not", () => {
  const dir = certDir();
  const base =
    `auth_http = "a:1"\nssl_certificate = "cert.pem"\nssl_certificate_key = "key.pem"\n[[server]]\n` +
    `listen = "993 ssl"\n`;
  assert.deepEqual(loadErrors(`${base}ssl_verify_client = "optional"\n`, dir), [
    "proxy.toml:6: no ssl_client_certificate or ssl_trusted_certificate for ssl_verify_client in [[server]] #1",
  ]);
  loadOk(`${base}ssl_verify_client = "optional_no_ca"\n`, dir);
  loadOk(`${base}ssl_verify_client = true\nssl_trusted_certificate = "ca.pem"\n`, dir);
  // Plain servers need nothing, as in nginx.
  loadOk(`auth_http = "a:1"\nssl_verify_client = "on"\n[[server]]\nlisten = "143"\n`);
});

Deno.test("TOML syntax errors are file:line:col without a stack", () => {
  const errors = loadErrors(`timeout = "5s"\nlisten = [\n  "143",\n  oops\n]\n`);
  assert.equal(errors.length, 1);
  assert.match(errors[0], /^proxy\.toml:4:\d+: [a-z]/);
  assert.ok(!errors[0].includes("\n"));
  assert.match(loadErrors(`a = 1\na = 2\n`)[0], /^proxy\.toml:2:\d+: /);
});

Deno.test("auth source resolution", () => {
  const users =
    `[static_auth]\nbackend = "127.0.0.1:143"\n[[static_auth.user]]\nname = "u"\npassword = "${HASH}"\n`;
  const server = `[[server]]\nlisten = "127.0.0.1:1143"\nprotocol = "imap"\n`;
  assert.equal(loadOk(`${server}${users}`).servers[0].auth, "static");
  assert.equal(loadOk(`auth_http = "a:1"\n${server}${users}`).servers[0].auth, "http");
  assert.equal(loadOk(`auth_http = "a:1"\nauth = "static"\n${server}${users}`).servers[0].auth, "static");
  assert.deepEqual(loadErrors(`auth = "http"\n${server}${users}`), [
    'proxy.toml:1: no "auth_http" is defined for server in [[server]] #1 (auth = "http")',
  ]);
  assert.deepEqual(loadErrors(`auth = "static"\nauth_http = "a:1"\n${server}`), [
    'proxy.toml:1: auth = "static" but [static_auth] has no users (in [[server]] #1)',
  ]);
});

Deno.test("admin, log and worker_processes tables", () => {
  const config = loadOk(
    `worker_processes = "auto"\n${MINIMAL}[admin]\ntoken = "t"\n[log]\nlevel = "debug"\nformat = "json"\n`,
  );
  assert.equal(config.worker_processes, "auto");
  assert.equal(config.admin.token, "t");
  assert.equal(config.admin.listen?.host, "127.0.0.1");
  assert.equal(config.admin.listen?.port, 8080);
  assert.deepEqual(config.log, { level: "debug", format: "json" });
  // A public admin API without a token is refused unless the operator says so explicitly.
  const open = loadErrors(`${MINIMAL}[admin]\nlisten = "8025"\n`);
  assert.equal(open.length, 1);
  assert.match(open[0], /^proxy\.toml:6: \[admin\] listens on 0\.0\.0\.0:8025 without a token: /);
  assert.match(open[0], /allow_unauthenticated = true/);
  assert.match(loadErrors(`${MINIMAL}[admin]\nlisten = "[::]:8025"\n`)[0], /\[::\]:8025 without a token/);
  assert.match(loadErrors(`${MINIMAL}[admin]\nlisten = "192.0.2.1:8025"\n`)[0], /without a token/);
  const trusted = loadOk(`${MINIMAL}[admin]\nlisten = "8025"\nallow_unauthenticated = true\n`);
  assert.equal(trusted.admin.listen?.host, "0.0.0.0");
  assert.deepEqual(trusted.warnings, []);
  assert.equal(loadOk(`${MINIMAL}[admin]\nlisten = "8025"\ntoken = "t"\n`).admin.token, "t");
  // Loopback and UNIX sockets stay token-free.
  for (const listen of ["127.0.0.1:8025", "127.0.0.2:8025", "[::1]:8025", "unix:/run/mailproxy-admin.sock"]) {
    assert.equal(loadOk(`${MINIMAL}[admin]\nlisten = "${listen}"\n`).admin.token, null, listen);
  }
  assert.deepEqual(loadErrors(`${MINIMAL}[admin]\nlisten = "8025 ssl"\n[log]\nlevel = "warn"\n`), [
    'proxy.toml:6: "listen" in [admin]: listen options are not supported here',
    'proxy.toml:8: "level" in [log]: invalid value "warn" (expected one of "debug", "info", "warning", "error") ' +
    '— did you mean "warning"?',
  ]);
});

Deno.test("loadConfigFile resolves paths against the file's directory", async () => {
  const dir = certDir();
  const file = join(dir, "proxy.toml");
  writeFileSync(file, `ssl_certificate = "cert.pem"\nssl_certificate_key = "key.pem"\n${MINIMAL}`);
  const r = await loadConfigFile(file);
  assert.ok(r.ok);
  assert.equal(r.config.file, file);
  assert.deepEqual(r.config.servers[0].ssl_certificate, [join(dir, "cert.pem")]);
  assert.deepEqual(await loadConfigFile(join(dir, "none.toml")), {
    ok: false,
    errors: [`${join(dir, "none.toml")}: No such file or directory`],
  });
  const text = loadConfigText(
    `ssl_certificate = "cert.pem"\nssl_certificate_key = "key.pem"\n${MINIMAL}`,
    file,
  );
  assert.ok(text.ok, "baseDir defaults to the directory of file");
});

Deno.test("error_log: stderr, files and syslog, per entry level, at the mail level and per server", () => {
  const dir = certDir();
  const config = loadOk(
    `error_log = ["stderr warn", "mail.log info", "syslog:server=127.0.0.1:5514,facility=mail,tag=mp,transport=tcp"]
${MINIMAL}error_log = "syslog:server=unix:/dev/log,nohostname debug"
[[server]]
listen = "127.0.0.1:1110"
protocol = "pop3"
`,
    dir,
  );
  assert.deepEqual(config.error_log?.map((t) => [t.type, t.level]), [
    ["stderr", "warning"],
    ["file", "info"],
    ["syslog", "error"],
  ]);
  assert.equal(config.error_log?.[1].type === "file" && config.error_log[1].path, join(dir, "mail.log"));
  const tcp = config.error_log?.[2];
  assert.ok(tcp?.type === "syslog");
  assert.deepEqual([tcp.transport, tcp.host, tcp.port, tcp.facility, tcp.tag], [
    "tcp",
    "127.0.0.1",
    5514,
    2,
    "mp",
  ]);
  const own = config.servers[0].error_log?.[0];
  assert.ok(own?.type === "syslog");
  assert.deepEqual([own.transport, own.path, own.nohostname, own.level], ["unix", "/dev/log", true, "debug"]);
  assert.equal(config.servers[1].error_log, config.error_log, "inherited whole");
  assert.equal(loadOk(MINIMAL).error_log, null, "absent: stderr at [log] level");

  const errors = loadErrors(
    `error_log = ["/nonexistent-dir/x.log", "stderr loud", "syslog:server=example.org", "syslog:server=[::1]", ` +
      `"syslog:facility=mail", "syslog:server=1.2.3.4,severity=info", "memory:32m"]\n${MINIMAL}`,
  );
  assert.equal(errors.length, 7, errors.join("\n"));
  assert.match(errors[0], /"\/nonexistent-dir\/x\.log": the directory does not exist/);
  assert.match(errors[1], /unknown log level "loud"/);
  assert.match(errors[2], /syslog server must be an IP address/);
  assert.match(errors[3], /UDP to an IPv6 address is not supported/);
  assert.match(errors[4], /no syslog server configured/);
  assert.match(errors[5], /"severity" applies to access_log/);
  assert.match(errors[6], /memory buffer/);
});

Deno.test("worker_shutdown_timeout: none by default; when set it is also the default drain of shutdown_timeout", () => {
  const plain = loadOk(MINIMAL);
  assert.equal(plain.worker_shutdown_timeout, null);
  assert.equal(plain.shutdown_timeout, 30_000);
  const set = loadOk(`worker_shutdown_timeout = "10s"\n${MINIMAL}`);
  assert.equal(set.worker_shutdown_timeout, 10_000);
  assert.equal(set.shutdown_timeout, 10_000);
  const both = loadOk(`worker_shutdown_timeout = "10m"\nshutdown_timeout = "5s"\n${MINIMAL}`);
  assert.deepEqual([both.worker_shutdown_timeout, both.shutdown_timeout], [600_000, 5_000]);
  assert.match(loadErrors(`worker_shutdown_timeout = "soon"\n${MINIMAL}`)[0], /worker_shutdown_timeout/);
});
