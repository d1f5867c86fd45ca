import assert from "node:assert/strict";
import { join } from "node:path";
import { parse } from "smol-toml";
import { loadConfigText } from "../config/load.ts";
import { CONFIG_KEYS, type KeySpec, type TomlValue } from "../config/schema.ts";
import { convertNginxConfig } from "./convert.ts";
import { keyForDirective } from "./key_index.ts";
import type { ConvertResult, IncludeReader } from "./types.ts";

const BASE = "/etc/nginx";

function convert(text: string, readInclude?: IncludeReader): ConvertResult {
  return convertNginxConfig(text, { file: "nginx.conf", baseDir: BASE, readInclude });
}

/** Converts, requires success, and returns the output parsed back as TOML. */
function toml(
  text: string,
  readInclude?: IncludeReader,
): { doc: Record<string, TomlValue>; result: ConvertResult } {
  const result = convert(text, readInclude);
  assert.ok(result.ok, result.errors.join("\n"));
  // Plain objects: smol-toml's tables have a null prototype, which strict deepEqual tells apart.
  return { doc: JSON.parse(JSON.stringify(parse(result.toml))), result };
}

const reasons = (r: ConvertResult) => r.reports.map((x) => `${x.line}: ${x.directive} — ${x.reason}`);
const servers = (doc: Record<string, TomlValue>) => doc.server as Record<string, TomlValue>[];

/** The directive names of the spec's §1.2 table (nginx-mail.md). */
const SPEC_DIRECTIVES = (
  "mail server listen protocol timeout server_name error_log resolver resolver_timeout max_errors auth_http " +
  "auth_http_header auth_http_pass_client_cert auth_http_timeout proxy proxy_buffer proxy_pass_error_message " +
  "proxy_protocol proxy_smtp_auth proxy_timeout xclient imap_auth imap_capabilities imap_client_buffer " +
  "pop3_auth pop3_capabilities smtp_auth smtp_capabilities smtp_client_buffer smtp_greeting_delay starttls " +
  "ssl_certificate ssl_certificate_key ssl_password_file ssl_certificate_compression ssl_dhparam " +
  "ssl_ecdh_curve ssl_protocols ssl_ciphers ssl_prefer_server_ciphers ssl_session_cache ssl_session_tickets " +
  "ssl_session_ticket_key ssl_session_timeout ssl_verify_client ssl_verify_depth ssl_client_certificate " +
  "ssl_trusted_certificate ssl_crl ssl_conf_command ssl set_real_ip_from"
).split(" ");

Deno.test("every directive of spec §1.2 has a key in the schema", () => {
  for (const name of SPEC_DIRECTIVES.filter((n) => n !== "mail")) {
    assert.ok(keyForDirective(name), `no key for ${name}`);
  }
});

/** nginx directives that write a schema example's value (one per list entry where nginx repeats). */
function nginxFor(spec: KeySpec, value: TomlValue): string {
  const name = spec.directive!.split(/[\s;]/)[0];
  const word = (v: TomlValue) => typeof v === "boolean" ? (v ? "on" : "off") : `"${String(v)}"`;
  if (spec.kind === "access_list") {
    return (value as Record<string, TomlValue>[]).map((rule) =>
      Object.entries(rule).map(([k, v]) => `${k} ${v};`)
    )
      .flat().join("\n");
  }
  if (spec.kind === "headers") {
    return Object.entries(value).map(([k, v]) => `${name} ${k} ${word(v)};`).join("\n");
  }
  if (
    Array.isArray(value) && (spec.kind === "listen" || spec.kind === "path_list" || spec.kind === "error_log")
  ) {
    return value.map((v) => `${name} ${String(v)};`).join("\n");
  }
  const args = Array.isArray(value) ? value.map(word).join(" ") : word(value);
  return `${name} ${args};`;
}

Deno.test("every schema key with an nginx directive converts back to its documented example", () => {
  const keys = CONFIG_KEYS.filter((k) =>
    k.directive !== null && ["top", "mail", "server"].includes(k.context) && k.kind !== "table_array" &&
    k.example !== ""
  );
  assert.ok(keys.length >= 45, `only ${keys.length} keys`);
  for (const spec of keys) {
    const expected = JSON.parse(JSON.stringify(parse(spec.example)))[spec.name] as TomlValue;
    const line = nginxFor(spec, expected);
    const listen = spec.name === "listen" ? "" : "listen 143;";
    const text = spec.context === "top"
      ? `${line}\nmail { server { listen 143; } }`
      : spec.context === "mail"
      ? `mail { ${line} server { listen 143; } }`
      : `mail { server { ${listen} ${line} } }`;
    const { doc, result } = toml(text);
    assert.deepEqual(result.reports, [], `${spec.name}: ${reasons(result)}`);
    const table = spec.context === "server" ? servers(doc)[0] : doc;
    const isPath = spec.kind === "path" || spec.kind === "path_list";
    const want = isPath
      ? (Array.isArray(expected) ? expected.map((p) => join(BASE, String(p))) : join(BASE, String(expected)))
      : expected;
    assert.deepEqual(table[spec.name], want, `${spec.name}: ${line}`);
  }
});

Deno.test("on/off become booleans; lists accumulate; headers become a table; listen keeps its parameters", () => {
  const { doc, result } = toml(`mail {
    xclient off; proxy_pass_error_message on; starttls on; proxy_protocol off; ssl_verify_client optional_no_ca;
    imap_capabilities IMAP4rev1 IDLE;
    imap_capabilities "X-ONE TWO";
    auth_http_header X-Auth-Key "secret value";
    auth_http_header X-Other 'b';
    set_real_ip_from 10.0.0.0/8;
    set_real_ip_from unix:;
    server { listen 993 ssl; listen [::1]:143 proxy_protocol backlog=10 so_keepalive=on; protocol imap; }
    server { listen 110; }
  }`);
  assert.deepEqual(result.reports, []);
  assert.equal(doc.xclient, false);
  assert.equal(doc.proxy_pass_error_message, true);
  assert.equal(doc.starttls, true);
  assert.equal(doc.proxy_protocol, false);
  assert.equal(doc.ssl_verify_client, "optional_no_ca");
  assert.deepEqual(doc.imap_capabilities, ["IMAP4rev1", "IDLE", "X-ONE TWO"]);
  assert.deepEqual(doc.auth_http_header, { "X-Auth-Key": "secret value", "X-Other": "b" });
  assert.deepEqual(doc.set_real_ip_from, ["10.0.0.0/8", "unix:"]);
  assert.deepEqual(servers(doc)[0].listen, [
    "993 ssl",
    "[::1]:143 proxy_protocol backlog=10 so_keepalive=on",
  ]);
  assert.equal(servers(doc)[1].listen, "110");
});

Deno.test("relative file paths are made absolute against the nginx conf directory", () => {
  const { doc } = toml(`mail { ssl_certificate certs/a.pem; ssl_certificate /abs/b.pem;
    ssl_certificate_key certs/a.key; ssl_certificate_key certs/b.key; ssl_crl ../crl.pem;
    server { listen 143; } }`);
  assert.deepEqual(doc.ssl_certificate, ["/etc/nginx/certs/a.pem", "/abs/b.pem"]);
  assert.deepEqual(doc.ssl_certificate_key, ["/etc/nginx/certs/a.key", "/etc/nginx/certs/b.key"]);
  assert.equal(doc.ssl_crl, "/etc/crl.pem");
});

Deno.test("comments are carried over to the keys they belong to", () => {
  const { result } = toml(`# file header
mail {
  # the greeting name
  server_name mx.test;  # shown in EHLO
  # first
  imap_capabilities A;
  # second
  imap_capabilities B;  # tail
  server { # the IMAP one
    listen 143;
    # before the end
  }
}`);
  const out = result.toml;
  assert.ok(
    out.includes('# file header\n# the greeting name\nserver_name = "mx.test"  # shown in EHLO\n'),
    out,
  );
  assert.ok(out.includes('# first\n# second\nimap_capabilities = ["A", "B"]  # tail\n'), out);
  assert.ok(out.includes('[[server]]  # the IMAP one\nlisten = "143"\n# before the end\n'), out);
});

Deno.test("unknown, misplaced, duplicate and invalid directives are reported, never dropped", () => {
  const { doc, result } = toml(`mail {
    imap_capabilites IMAP4rev1;
    listen 143;
    timeout 5s; timeout 6s;
    xclient maybe;
    max_errors lots;
    timeout_x;
    server_name a b;
    ssl_protocols SSLv3 TLSv1.2;
    auth_http_header X-A 1; auth_http_header X-A 2;
    proxy_pass http://backend;
    server { listen mail.example.com:143; listen 144; server_name x; server_name y; location / { } }
    server { worker_processes 2; server { listen 1; } }
  }`);
  assert.equal(doc.timeout, "5s");
  assert.deepEqual(doc.auth_http_header, { "X-A": "1" });
  assert.deepEqual(servers(doc)[0].listen, "144");
  const r = reasons(result);
  const expect = [
    /^2: imap_capabilites IMAP4rev1; — unknown directive "imap_capabilites" — did you mean "imap_capabilities"\?/,
    /^3: listen 143; — "listen" directive is not allowed here \(it belongs in server {}\)/,
    /^4: timeout 6s; — "timeout" directive is duplicate/,
    /^5: xclient maybe; — expected true or false, got the string "maybe"/,
    /^6: max_errors lots; — expected an integer/,
    /^7: timeout_x; — unknown directive "timeout_x"/,
    /^8: server_name a b; — invalid number of arguments in "server_name" directive/,
    /^9: ssl_protocols SSLv3 TLSv1.2; — "SSLv3" is not supported by mailproxy/,
    /^10: auth_http_header X-A 2; — header "X-A" is set twice/,
    /^11: proxy_pass http:\/\/backend; — unknown directive "proxy_pass"/,
    /^12: listen mail.example.com:143; — host name "mail.example.com" is not supported here/,
    /^12: server_name y; — "server_name" directive is duplicate/,
    /^12: location \/ { … } — unknown directive "location"/,
    /^13: worker_processes 2; — "worker_processes" directive is not allowed here \(it belongs in the main context\)/,
    /^13: server { … } — "server" directive is not allowed here \(it belongs in mail {}\)/,
  ];
  assert.equal(r.length, expect.length, r.join("\n"));
  expect.forEach((re, i) => assert.match(r[i], re));
  // Listed at the top of the output and marked where each stood.
  assert.match(result.toml, /^# NOT CONVERTED \(15\)/m);
  assert.match(result.toml, /^# not converted \(nginx\.conf:11\): proxy_pass http:\/\/backend;$/m);
});

Deno.test("unsupported directives: nginx's default value converts, anything else is reported with the schema's reason", () => {
  const { doc, result } = toml(`mail { ssl_ecdh_curve auto; ssl_certificate_compression off;
    ssl_ecdh_curve_x y; ssl_dhparam dh.pem; error_log /var/log/mail.log; server { listen 143; } }`);
  assert.equal(doc.ssl_ecdh_curve, "auto");
  assert.equal(doc.ssl_certificate_compression, false);
  const r = reasons(result);
  assert.equal(r.length, 2);
  assert.match(r[1], /"ssl_dhparam" is not supported by mailproxy: mailproxy offers ECDHE key exchange only/);
  assert.deepEqual(doc.error_log, ["/var/log/mail.log"], "error_log is a key like the others");
});

Deno.test("resolver: off is false, addresses convert, options are reported", () => {
  assert.equal(toml("mail { resolver off; server { listen 25; } }").doc.resolver, false);
  const { doc, result } = toml(
    "mail { resolver 127.0.0.1 [::1]:53 valid=30s ipv6=off; server { listen 25; } }",
  );
  assert.deepEqual(doc.resolver, ["127.0.0.1", "[::1]:53"]);
  assert.match(reasons(result)[0], /resolver options valid=30s ipv6=off are not supported/);
});

Deno.test("removed `ssl on` becomes `ssl` on every listen of the servers it applies to", () => {
  const { doc, result } = toml(`mail { ssl on;
    server { listen 993; listen 994 ssl; }
    server { listen 143; ssl off; }
    server { listen 995; } }`);
  assert.deepEqual(result.reports, []);
  assert.deepEqual(servers(doc).map((s) => s.listen), [["993 ssl", "994 ssl"], "143", "995 ssl"]);
  assert.match(
    toml("mail { server { listen 1; ssl maybe; } }").result.reports[0].reason,
    /removed from nginx/,
  );
});

Deno.test("main context: worker_processes and error_log level convert; the rest is reported with advice", () => {
  const { doc, result } = toml(`user nginx;
worker_processes auto;
error_log stderr warn;
load_module modules/ngx_mail_module.so;
load_module modules/ngx_stream_module.so;
events { worker_connections 512; use epoll; }
http { server { listen 80; } }
timeout 5s;
mail { server { listen 143; } }`);
  assert.equal(doc.worker_processes, "auto");
  assert.deepEqual(doc.error_log, ["stderr warn"]);
  assert.equal(doc.log, undefined);
  assert.match(
    result.toml,
    /# load_module modules\/ngx_mail_module\.so: not needed, mail support is built in/,
  );
  const r = reasons(result);
  assert.equal(r.length, 6, r.join("\n"));
  assert.match(r[0], /^1: user nginx; — .*User= or DynamicUser=/);
  assert.match(r[1], /^5: load_module .*no dynamic modules/);
  assert.match(r[2], /^6: worker_connections 512; — .*LimitNOFILE/);
  assert.match(r[3], /^6: use epoll; — the event loop belongs to the runtime/);
  assert.match(r[4], /^7: http { … } — not part of the mail proxy/);
  assert.match(
    r[5],
    /^8: timeout 5s; — "timeout" directive is not allowed here \(it belongs in mail {} or server {}\)/,
  );
});

Deno.test("main-context error_log: files, syslog and levels become the top-level error_log", () => {
  const { doc, result } = toml(
    "error_log a.log; error_log syslog:server=unix:/dev/log,facility=mail notice; mail { server { listen 143; } }",
  );
  assert.deepEqual(doc.error_log, [join(BASE, "a.log"), "syslog:server=unix:/dev/log,facility=mail notice"]);
  assert.deepEqual(result.reports, []);
  assert.match(
    reasons(toml("error_log x loud; mail { server { listen 1; } }").result)[0],
    /invalid "error_log"/,
  );
  assert.match(
    reasons(toml("error_log syslog:server=example.org; mail { server { listen 1; } }").result)[0],
    /invalid "error_log" directive: syslog server must be an IP address/,
  );
  // mail {} has its own: that one is the top-level error_log; the main one is noted, not converted.
  const own = toml("error_log main.log; mail { error_log /var/log/mail.log info; server { listen 1; } }");
  assert.deepEqual(own.doc.error_log, ["/var/log/mail.log info"]);
  assert.match(own.result.toml, /error_log .*main\.log: mail {} has its own error_log/);
  // Per server, as in nginx.
  const perServer = toml("mail { server { listen 1; error_log /var/log/s1.log debug; } }");
  assert.deepEqual(servers(perServer.doc)[0].error_log, ["/var/log/s1.log debug"]);
});

Deno.test("worker_shutdown_timeout converts to the key whose directive it is, when the schema has one", () => {
  const spec = keyForDirective("worker_shutdown_timeout");
  const { doc, result } = toml("worker_shutdown_timeout 30s; mail { server { listen 143; } }");
  if (spec) {
    assert.equal(doc[spec.name], "30s");
    assert.deepEqual(result.reports, []);
  } else {
    assert.match(result.reports[0].reason, /no key/);
  }
});

Deno.test("includes: read through the reader, in place, with loops and failures reported", () => {
  const files: Record<string, string> = {
    "servers/*.conf": "/etc/nginx/servers/a.conf",
    "loop.conf": "/etc/nginx/loop.conf",
  };
  const texts: Record<string, string> = {
    "/etc/nginx/servers/a.conf": "# from a\nserver { listen 143; include caps.conf; }",
    "/etc/nginx/loop.conf": "include loop.conf;",
    "/etc/nginx/caps.conf": "imap_capabilities X;",
  };
  const reader: IncludeReader = (pattern) => {
    const path = files[pattern] ?? `/etc/nginx/${pattern}`;
    return path in texts ? { files: [{ path, text: texts[path] }] } : { error: `open() "${path}" failed` };
  };
  const { doc, result } = toml(
    "mail { include servers/*.conf; include loop.conf; include missing.conf; }",
    reader,
  );
  assert.deepEqual(servers(doc)[0].imap_capabilities, ["X"]);
  assert.match(result.toml, /# from a\n\[\[server\]\]/);
  const r = reasons(result);
  assert.equal(r.length, 2, r.join("\n"));
  assert.match(r[0], /include loop\.conf; — "\/etc\/nginx\/loop\.conf" includes itself/);
  assert.match(r[1], /include missing\.conf; — open\(\) "\/etc\/nginx\/missing\.conf" failed/);
  assert.match(reasons(convert("mail { include x.conf; server { listen 1; } }"))[0], /cannot be read here/);
});

Deno.test("includes that fan out exponentially stop at a file limit, quickly", () => {
  let n = 0;
  // Every file includes two new ones: 2^16 files without the limit.
  const reader: IncludeReader = () => ({ files: [{ path: `/f${n++}`, text: "include a; include b;" }] });
  const started = performance.now();
  const r = convert("mail { include a; server { listen 1; } }", reader);
  assert.ok(r.ok);
  assert.ok(n <= 1001, `${n} files read`);
  assert.ok(r.reports.some((x) => /more than 1000 included files/.test(x.reason)));
  assert.ok(performance.now() - started < 5000);
});

Deno.test("fatal problems: syntax errors (also in includes), no mail block", () => {
  assert.deepEqual(convert("mail { server {").errors, [
    'nginx.conf:1: unexpected end of file, expecting "}"',
  ]);
  assert.deepEqual(convert("events {}").errors, ["nginx.conf: no mail {} block found (nothing to convert)"]);
  const reader: IncludeReader = () => ({ files: [{ path: "/x/bad.conf", text: 'a "b"c;' }] });
  const r = convert("mail { include bad.conf; }", reader);
  assert.equal(r.ok, false);
  assert.deepEqual(r.errors, ['/x/bad.conf:1: unexpected "c"']);
  const dup = toml("mail { server { listen 1; } } mail { server { listen 2; } }");
  assert.match(reasons(dup.result)[0], /"mail" directive is duplicate \(first in nginx\.conf:1\)/);
});

Deno.test("a byte order mark and CRLF line ends are read as nginx would read the text without them", () => {
  const { doc, result } = toml("\uFEFFmail {\r\n  server_name a; # c\r\n  server { listen 1; }\r\n}\r\n");
  assert.deepEqual(result.reports, []);
  assert.equal(doc.server_name, "a");
  assert.match(result.toml, /server_name = "a" {2}# c\n/);
  assert.match(reasons(toml("mail x { server { listen 1; } }").result)[0], /"mail" takes no arguments/);
});

Deno.test("values with quotes, backslashes and control characters survive as TOML strings", () => {
  const { doc } = toml(`mail { auth_http_header "X-Q" "a\\"b\\\\c\\td"; server_name 'x#y';
    server { listen 143; } }`);
  assert.deepEqual(doc.auth_http_header, { "X-Q": 'a"b\\c\td' });
  assert.equal(doc.server_name, "x#y");
  const { result } = toml('mail { server_name "a\\nb"; server { listen 1; } }');
  assert.match(reasons(result)[0], /must not contain line breaks/);
});

Deno.test("nginx variables are literal in mail {}: converted as written, with a note", () => {
  const { doc, result } = toml("mail { auth_http_header X-IP $remote_addr; server { listen 143; } }");
  assert.deepEqual(doc.auth_http_header, { "X-IP": "$remote_addr" });
  assert.match(result.toml, /note: nginx has no variables in mail {}: "\$remote_addr" is used literally/);
});

Deno.test("a converted config without files loads with the real loader", () => {
  const { result } = toml(
    `mail { auth_http 127.0.0.1:9000/auth; server_name mx.test; imap_auth plain CRAM-MD5;
    server { listen 127.0.0.1:1143; protocol imap; } server { listen 127.0.0.1:1110; protocol pop3; } }`,
  );
  const loaded = loadConfigText(result.toml, "converted.toml", { baseDir: BASE, ignoreBuildSupport: true });
  assert.ok(loaded.ok, loaded.ok ? "" : loaded.errors.join("\n"));
  assert.deepEqual(loaded.config.servers.map((s) => s.protocol), ["imap", "pop3"]);
  assert.deepEqual(loaded.config.servers[0].imap_auth, ["plain", "cram-md5"]);
});
