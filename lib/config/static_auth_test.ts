import assert from "node:assert/strict";
import { HASH, loadErrors, loadOk } from "./testing.ts";

const SERVER = `[[server]]\nlisten = "127.0.0.1:1143"\nprotocol = "imap"\n`;

Deno.test("static users: backends by string or per protocol, user backend overrides", () => {
  const config = loadOk(`${SERVER}
[static_auth]
backend = { imap = "127.0.0.1:143", pop3 = "[::1]:110" }

[[static_auth.user]]
name = "alice"
password = "${HASH}"

[[static_auth.user]]
name = "bob"
password = "${HASH}"
backend = "localhost:1143"
`);
  const { backend, users } = config.static_auth;
  assert.deepEqual(backend, { imap: { host: "127.0.0.1", port: 143 }, pop3: { host: "::1", port: 110 } });
  assert.deepEqual(users.map((u) => u.name), ["alice", "bob"]);
  assert.deepEqual(users[0].backend, backend);
  const bob = { host: "127.0.0.1", port: 1143 };
  assert.deepEqual(users[1].backend, { imap: bob, pop3: bob, smtp: bob, sieve: bob });
  assert.equal(config.servers[0].auth, "static");
  assert.equal(config.static_auth.failure_wait, 2000, "default failure_wait");
  assert.equal(
    loadOk(
      `${SERVER}[static_auth]\nbackend = "127.0.0.1:1"\nfailure_wait = 0\n[[static_auth.user]]\nname = "a"\npassword = "${HASH}"\n`,
    ).static_auth.failure_wait,
    0,
  );
});

Deno.test("static users: plaintext, duplicates, missing keys, bad backends", () => {
  const errors = loadErrors(`${SERVER}
[static_auth]
backend = { imap = "127.0.0.1", lmtp = "127.0.0.1:24" }

[[static_auth.user]]
name = "alice"
password = "hunter2"

[[static_auth.user]]
name = "alice"
password = "${HASH}"

[[static_auth.user]]
password = "${HASH}"

[[static_auth.user]]
name = "carol"
password = "$2y$10$abc"
backend = "mail.example.com:143"

[[static_auth.user]]
name = "dave"
password = "$scrypt$x"
failure_wait = "1s"
`);
  assert.deepEqual(errors, [
    'proxy.toml:6: "backend" in [static_auth]: no port in "127.0.0.1" (write "host:port")',
    'proxy.toml:6: "backend" in [static_auth]: unknown protocol "lmtp" (expected imap, pop3, smtp, sieve) — did you mean ' +
    '"smtp"?',
    'proxy.toml:10: "password" in [[static_auth.user]] #1: plaintext passwords are not accepted; run ' +
    '`mailproxy hash-password` and paste the "$scrypt$..." hash',
    'proxy.toml:13: duplicate user "alice" in [[static_auth.user]] #2 (first defined in #1)',
    'proxy.toml:16: missing required key "name" in [[static_auth.user]] #3',
    'proxy.toml:21: "password" in [[static_auth.user]] #4: unsupported hash format; run `mailproxy hash-password` ' +
    'to make a "$scrypt$..." hash',
    'proxy.toml:22: "backend" in [[static_auth.user]] #4: host name "mail.example.com" is not supported here; use ' +
    "an IP address (or localhost)",
    'proxy.toml:26: "password" in [[static_auth.user]] #5: malformed "$scrypt$" hash (parameters, salt or hash); ' +
    "make a new one with `mailproxy hash-password`",
    'proxy.toml:27: unknown key "failure_wait" in [[static_auth.user]] #5 (it belongs in [static_auth])',
  ]);
  assert.ok(!errors.join("\n").includes("hunter2"), "a plaintext password is never echoed");
});

Deno.test("static users: a protocol without any backend is an error, a partial one a warning", () => {
  const user = (name: string, backend = "") =>
    `[[static_auth.user]]\nname = "${name}"\npassword = "${HASH}"\n${backend}`;
  assert.deepEqual(loadErrors(`${SERVER}[static_auth]\n${user("a")}`), [
    "proxy.toml:1: no imap backend for any [static_auth] user in [[server]] #1 (set [static_auth].backend)",
  ]);
  const config = loadOk(
    `${SERVER}[static_auth]\n${user("a", 'backend = { imap = "127.0.0.1:143" }\n')}${user("b")}`,
  );
  assert.deepEqual(config.warnings, [
    'proxy.toml:1: imap logins in [[server]] #1 will fail for users without a imap backend: "b"',
  ]);
  assert.deepEqual(loadErrors(`${SERVER}[static_auth.user]\nname = "a"\n`), [
    'proxy.toml:4: "user" must be an array of tables: write [[static_auth.user]] (one per user) instead of ' +
    "[static_auth.user]",
  ]);
});
