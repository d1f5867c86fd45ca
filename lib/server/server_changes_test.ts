import assert from "node:assert/strict";
import { loadOk } from "../config/testing.ts";
import { serverChanges } from "./server_changes.ts";

const AUTH = `auth_http = "http://127.0.0.1:9000/auth"\n`;

Deno.test("server changes: names changed keys, added and removed servers, never values", () => {
  const before = loadOk(
    `${AUTH}[[server]]\nlisten = "127.0.0.1:2001"\nprotocol = "imap"\n` +
      `[[server]]\nlisten = "127.0.0.1:2002"\nprotocol = "imap"\n`,
  ).servers;
  const after = loadOk(
    `${AUTH}[[server]]\nlisten = "127.0.0.1:2001"\nprotocol = "imap"\nauth_http_header = { X-Key = "sekrit" }\n` +
      `imap_capabilities = ["IMAP4rev1", "IDLE"]\n`,
  ).servers;
  const lines = serverChanges(before, after);
  assert.deepEqual(lines, [
    "server #1 (imap): auth_http_header, imap_capabilities changed (new sessions only)",
    "server #2 (imap) removed",
  ]);
  assert.ok(!lines.join().includes("sekrit"));
  assert.deepEqual(serverChanges(after, before).at(-1), "server #2 (imap) added");
  assert.deepEqual(serverChanges(before, before), []);
});
