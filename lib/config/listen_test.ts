import assert from "node:assert/strict";
import { listenAddress, parseListen } from "./listen.ts";

const one = (raw: string) => {
  const r = parseListen(raw, "/etc/mailproxy");
  assert.deepEqual(r.errors, [], `errors for "${raw}"`);
  assert.equal(r.specs.length, 1);
  return r.specs[0];
};
const errorsOf = (raw: string) => parseListen(raw, "/etc/mailproxy").errors;

Deno.test("listen address forms", () => {
  assert.deepEqual(one("143"), {
    raw: "143",
    transport: "tcp",
    host: "0.0.0.0",
    port: 143,
    ssl: false,
    proxy_protocol: false,
  });
  assert.equal(one("*:143").host, "0.0.0.0");
  assert.equal(listenAddress(one("127.0.0.1:1143")), "127.0.0.1:1143");
  assert.equal(one("[::1]:143").host, "::1");
  assert.equal(listenAddress(one("[::1]:143")), "[::1]:143");
  assert.equal(one("[::]:993").host, "::");
  assert.equal(one("[0:0::1]:143").host, "::1", "IPv6 is canonicalised");
  assert.equal(one("localhost:143").host, "127.0.0.1");
  const unix = one("unix:/run/mail.sock");
  assert.equal(unix.transport, "unix");
  assert.equal(unix.host, "/run/mail.sock");
  assert.equal(unix.port, 0);
  assert.equal(one("unix:mail.sock").host, "/etc/mailproxy/mail.sock", "relative paths use the config dir");
});

Deno.test("listen port ranges expand to one socket each", () => {
  const r = parseListen("127.0.0.1:6000-6002 ssl", "/");
  assert.deepEqual(r.specs.map((s) => s.port), [6000, 6001, 6002]);
  assert.ok(r.specs.every((s) => s.ssl));
  assert.deepEqual(errorsOf("1-70000"), ['invalid port range "1-70000"']);
  assert.deepEqual(errorsOf("6005-6000"), ['invalid port range "6005-6000"']);
});

Deno.test("listen options", () => {
  const s = one("993 ssl proxy_protocol backlog=100 rcvbuf=64k sndbuf=1m so_keepalive=30m::10");
  assert.equal(s.ssl, true);
  assert.equal(s.proxy_protocol, true);
  assert.equal(s.backlog, 100);
  assert.equal(s.rcvbuf, 65_536);
  assert.equal(s.sndbuf, 1_048_576);
  assert.deepEqual(s.so_keepalive, { idle: 1_800_000, count: 10 });
  assert.equal(s.bind, true, "socket options imply bind");
  assert.equal(one("143").bind, undefined);
  assert.equal(one("127.0.0.1:143 bind").bind, true);
  assert.equal(one("143 so_keepalive=on").so_keepalive, true);
  assert.equal(one("143 so_keepalive=off").so_keepalive, false);
  assert.deepEqual(one("143 so_keepalive=:75s:").so_keepalive, { interval: 75_000 });
  assert.equal(one("[::]:143 ipv6only=off").ipv6only, false);
});

Deno.test("listen errors", () => {
  assert.deepEqual(errorsOf("143 sslx"), ['invalid parameter "sslx"']);
  assert.deepEqual(errorsOf("143 ssl=on"), ['invalid parameter "ssl=on"']);
  assert.deepEqual(errorsOf("143 backlog=0"), ['invalid backlog "backlog=0"']);
  assert.deepEqual(errorsOf("143 rcvbuf=big"), ['invalid rcvbuf "rcvbuf=big"']);
  assert.deepEqual(errorsOf("143 so_keepalive=::"), ['invalid so_keepalive "so_keepalive=::"']);
  assert.deepEqual(errorsOf("143 ipv6only=on"), ['ipv6only is not supported on addr "143"']);
  assert.deepEqual(errorsOf("0"), ['invalid port "0" (1-65535)']);
  assert.deepEqual(errorsOf("127.0.0.1"), ['no port in "127.0.0.1"']);
  assert.deepEqual(errorsOf("[::1]"), ['no port in "[::1]"']);
  assert.deepEqual(errorsOf("unix:"), ['no path in "unix:"']);
  assert.deepEqual(errorsOf("mail.example.com:143"), [
    'host name "mail.example.com" is not supported here; use an IP address (or localhost)',
  ]);
  assert.deepEqual(errorsOf("::1:143"), [
    'IPv6 address "::1:143" must be written in brackets: "[ADDRESS]:PORT"',
  ]);
  assert.deepEqual(errorsOf("143 foo bar"), ['invalid parameter "foo"', 'invalid parameter "bar"']);
});

Deno.test("multipath is accepted with a warning", () => {
  const r = parseListen("143 multipath", "/");
  assert.deepEqual(r.errors, []);
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0], /multipath.*ignored/);
});
