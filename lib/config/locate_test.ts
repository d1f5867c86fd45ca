import assert from "node:assert/strict";
import { indexKeyLines } from "./locate.ts";
import { editDistance, suggest } from "./suggest.ts";

const TEXT = `# comment
timeout = "5s"   # trailing
motd = """
[[server]]
not = a table
"""

[[server]]
listen = [
  "143",   # first
  "993 ssl",
]
"quoted.key" = 1
a.b = { c = 1,
  d = 2 }

[[server]]
listen = "110"

[static_auth]
[[static_auth.user]]
name = "a"
[[static_auth.user]]
name = "b"
`;

Deno.test("key lines: tables, arrays of tables, multi-line values", () => {
  const lines = indexKeyLines(TEXT);
  assert.equal(lines.lineOf(["timeout"]), 2);
  assert.equal(lines.lineOf(["motd"]), 3);
  assert.equal(lines.lineOf(["server", 0]), 8, "the [[server]] inside a multi-line string is skipped");
  assert.equal(lines.lineOf(["server", 0, "listen"]), 9);
  assert.equal(lines.lineOf(["server", 0, "listen", 0]), 10);
  assert.equal(lines.lineOf(["server", 0, "listen", 1]), 11);
  assert.equal(lines.lineOf(["server", 0, "quoted.key"]), 13);
  assert.equal(lines.lineOf(["server", 0, "a", "b", "d"]), 15);
  assert.equal(lines.lineOf(["server", 1]), 17);
  assert.equal(lines.lineOf(["server", 1, "listen"]), 18);
  assert.equal(lines.lineOf(["server", 1, "nothing"]), 17, "unknown paths fall back to the table");
  assert.equal(lines.lineOf(["static_auth", "user", 1, "name"]), 24);
  assert.equal(lines.lineOf(["static_auth", "user", 0]), 21);
});

Deno.test("suggestions: close keys only", () => {
  assert.equal(editDistance("timout", "timeout"), 1);
  assert.equal(editDistance("tiemout", "timeout"), 1, "a swap counts once");
  assert.equal(suggest("timout", ["timeout", "proxy_timeout"]), "timeout");
  assert.equal(
    suggest("ssl_certifcate_key", ["ssl_certificate", "ssl_certificate_key"]),
    "ssl_certificate_key",
  );
  assert.equal(suggest("banana", ["timeout", "listen"]), undefined);
  assert.equal(suggest("ab", ["on"]), undefined);
  assert.equal(suggest("warn", ["debug", "info", "warning", "error"]), "warning", "prefix of a candidate");
});
