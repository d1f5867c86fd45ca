import assert from "node:assert/strict";
import { Counter } from "./registry.ts";

Deno.test("registry: label order does not split a series; values with \\\\, newline and quote are escaped", () => {
  const c = new Counter("mailproxy_test_total", "test");
  c.inc({ protocol: "imap", result: "ok" });
  c.inc({ result: "ok", protocol: "imap" }, 2);
  c.inc({ user: 'a"b\\c\nd' });
  c.inc();
  const text = c.render();
  assert.match(text, /^mailproxy_test_total\{protocol="imap",result="ok"\} 3$/m);
  assert.match(text, /^mailproxy_test_total\{user="a\\"b\\\\c\\nd"\} 1$/m);
  assert.match(text, /^mailproxy_test_total 1$/m);
});
