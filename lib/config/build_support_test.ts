import assert from "node:assert/strict";
import { SUPPORTED_PROTOCOLS } from "../features.ts";
import { loadConfigText } from "./load.ts";
import { HASH } from "./testing.ts";

Deno.test("config: protocols this build cannot serve are refused with the server's line", () => {
  // Written against lib/features.ts so it keeps testing the rule as protocols land.
  for (const protocol of ["imap", "pop3", "smtp"] as const) {
    const r = loadConfigText(
      `auth_http = "http://127.0.0.1:9000/auth"

[[server]]
listen = "127.0.0.1:1025"
protocol = "${protocol}"
`,
      "proxy.toml",
    );
    if (SUPPORTED_PROTOCOLS.includes(protocol)) {
      assert.equal(r.ok, true, r.ok ? "" : r.errors.join("\n"));
    } else {
      assert.deepEqual(r.ok ? [] : r.errors, [
        `proxy.toml:3: [[server]] #1: protocol ${protocol} is not implemented in this version of mailproxy`,
      ]);
    }
  }
});

Deno.test("config: IMAP and POP3 servers with plain listeners pass the build check", () => {
  const r = loadConfigText(
    `auth_http = "http://127.0.0.1:9000/auth"
pop3_auth = ["plain", "apop", "cram-md5"]
[[server]]
listen = "127.0.0.1:143"
[[server]]
listen = "127.0.0.1:110"
`,
    "proxy.toml",
  );
  assert.equal(r.ok, true, r.ok ? "" : r.errors.join("\n"));
});

const USERS = `[static_auth]
backend = "127.0.0.1:10"
[[static_auth.user]]
name = "alice"
password = "${HASH}"
`;

Deno.test("config: APOP and CRAM-MD5 are refused with static users (hashes cannot verify digests)", () => {
  const r = loadConfigText(
    `pop3_auth = ["plain", "apop", "cram-md5"]
imap_auth = ["plain", "cram-md5"]

[[server]]
listen = "127.0.0.1:1110"
protocol = "pop3"

[[server]]
listen = "127.0.0.1:1143"
protocol = "imap"

[[server]]
listen = "127.0.0.1:1144"
protocol = "imap"
imap_auth = ["plain", "login", "external"]

[[server]]
listen = "127.0.0.1:4190"
sieve_auth = ["plain", "cram-md5"]

${USERS}`,
    "proxy.toml",
  );
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.deepEqual(r.errors, [
    'proxy.toml:4: [[server]] #1: pop3_auth includes "apop", which cannot work with auth = "static": ' +
    'stored password hashes cannot verify APOP digests (use auth_http, or remove "apop")',
    'proxy.toml:4: [[server]] #1: pop3_auth includes "cram-md5", which cannot work with auth = "static": ' +
    'stored password hashes cannot verify CRAM-MD5 digests (use auth_http, or remove "cram-md5")',
    'proxy.toml:8: [[server]] #2: imap_auth includes "cram-md5", which cannot work with auth = "static": ' +
    'stored password hashes cannot verify CRAM-MD5 digests (use auth_http, or remove "cram-md5")',
    'proxy.toml:17: [[server]] #4: sieve_auth includes "cram-md5", which cannot work with auth = "static": ' +
    'stored password hashes cannot verify CRAM-MD5 digests (use auth_http, or remove "cram-md5")',
  ]);
});

Deno.test("config: APOP and CRAM-MD5 stay allowed where auth_http decides", () => {
  const r = loadConfigText(
    `auth_http = "http://127.0.0.1:9000/auth"
pop3_auth = ["plain", "apop", "cram-md5"]

[[server]]
listen = "127.0.0.1:1110"
protocol = "pop3"

[[server]]
listen = "127.0.0.1:1111"
protocol = "pop3"
auth = "static"
pop3_auth = ["plain"]

${USERS}`,
    "proxy.toml",
  );
  assert.equal(r.ok, true, r.ok ? "" : r.errors.join("\n"));
});

Deno.test("config: OAuth mechanisms are refused with static users, allowed with auth_http", () => {
  const refused = loadConfigText(
    `[[server]]
listen = "127.0.0.1:587"
protocol = "smtp"
smtp_auth = ["plain", "xoauth2"]

${USERS}`,
    "proxy.toml",
  );
  assert.equal(refused.ok, false);
  if (!refused.ok) {
    assert.deepEqual(refused.errors, [
      'proxy.toml:1: [[server]] #1: smtp_auth includes "xoauth2", which cannot work with auth = "static": ' +
      'static users have passwords, not bearer tokens (use auth_http, or remove "xoauth2")',
    ]);
  }
  const allowed = loadConfigText(
    `auth_http = "http://127.0.0.1:9000/auth"
imap_auth = ["plain", "oauthbearer", "xoauth2"]
[[server]]
listen = "127.0.0.1:143"
proxy_auth_mech = "xoauth2"
`,
    "proxy.toml",
  );
  assert.equal(allowed.ok, true, allowed.ok ? "" : allowed.errors.join("\n"));
});
