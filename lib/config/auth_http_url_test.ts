import assert from "node:assert/strict";
import { parseAuthHttpUrl } from "./auth_http_url.ts";

const url = (raw: string) => {
  const r = parseAuthHttpUrl(raw, "/etc/mailproxy");
  if (!r.ok) throw new Error(r.error);
  return r.value;
};
const error = (raw: string) => {
  const r = parseAuthHttpUrl(raw, "/");
  return r.ok ? "ok" : r.error;
};

Deno.test("auth_http URL forms", () => {
  assert.deepEqual(url("http://127.0.0.1:9000/auth?x=1"), {
    raw: "http://127.0.0.1:9000/auth?x=1",
    transport: "tcp",
    host: "127.0.0.1",
    port: 9000,
    uri: "/auth?x=1",
    hostHeader: "127.0.0.1",
  });
  const bare = url("localhost");
  assert.equal(bare.port, 80);
  assert.equal(bare.uri, "/");
  assert.equal(url("auth.local:8080/mail").host, "auth.local");
  const v6 = url("http://[::1]:81/a");
  assert.equal(v6.host, "[::1]");
  assert.equal(v6.hostHeader, "[::1]");
  const unix = url("unix:/run/auth.sock:/auth");
  assert.deepEqual(
    [unix.transport, unix.host, unix.port, unix.uri, unix.hostHeader],
    ["unix", "/run/auth.sock", 0, "/auth", "localhost"],
  );
  assert.equal(url("unix:/run/auth.sock").uri, "/");
  assert.equal(url("unix:auth.sock").host, "/etc/mailproxy/auth.sock");
});

Deno.test("auth_http URL errors", () => {
  assert.equal(
    error("https://auth"),
    "auth_http does not support https (as in nginx); use a local http endpoint",
  );
  assert.equal(error("ftp://x/"), 'unsupported URL scheme in "ftp://x/" (use http://)');
  assert.equal(error("http://:80/"), 'invalid URL "http://:80/" (expected http://host[:port][/uri])');
  assert.equal(error("http://h:99999/"), 'invalid port "99999" (1-65535) in "http://h:99999/"');
  assert.equal(error("unix:/s:auth"), 'the URI in "unix:/s:auth" must start with "/"');
  assert.equal(error("http://bad host/"), 'invalid host in "http://bad host/"');
});
