import assert from "node:assert/strict";
import { loadConfigText } from "./load.ts";

Deno.test("config: settings this build cannot serve are refused with the server's line", () => {
  const r = loadConfigText(
    `auth_http = "http://127.0.0.1:9000/auth"

[[server]]
listen = "127.0.0.1:1110"
protocol = "pop3"

[[server]]
listen = "127.0.0.1:1143"
protocol = "imap"
`,
    "proxy.toml",
  );
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.deepEqual(r.errors, [
    "proxy.toml:3: [[server]] #1: protocol pop3 is not implemented in this version of mailproxy",
  ]);
});

Deno.test("config: an IMAP server with plain listeners passes the build check", () => {
  const r = loadConfigText(
    `auth_http = "http://127.0.0.1:9000/auth"
[[server]]
listen = "127.0.0.1:143"
`,
    "proxy.toml",
  );
  assert.equal(r.ok, true, r.ok ? "" : r.errors.join("\n"));
});
