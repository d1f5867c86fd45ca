import assert from "node:assert/strict";
import { parse } from "smol-toml";
import { renderToml, tomlKey, tomlString } from "./toml_write.ts";

Deno.test("TOML strings and keys: every code unit nginx can produce round-trips", () => {
  const nasty = 'q"b\\s\tt\nn\rr\x00\x01\x1f\x7f é ☃ #';
  assert.equal(parse(`k = ${tomlString(nasty)}`).k, nasty);
  for (const key of ["X-Auth-Key", "x.y", "a b", "ä", ""]) {
    assert.deepEqual(Object.keys(parse(`${tomlKey(key)} = 1`)), [key]);
  }
  assert.equal(tomlKey("X-Auth-Key"), "X-Auth-Key");
  assert.equal(tomlKey("x.y"), '"x.y"');
});

Deno.test("renderToml: comments stay comments, long arrays wrap, everything parses back", () => {
  const long = Array.from({ length: 12 }, (_, i) => `CAPABILITY-${i}`);
  const text = renderToml([
    { comments: [" header", ""], trailing: [], items: [] },
    {
      comments: [],
      trailing: [],
      items: [
        { kind: "key", key: "a", value: true, comments: [" about a\x00\x1b"], trailing: [" t1"] },
        { kind: "key", key: "b", value: long, comments: [], trailing: [" one", " two"] },
        { kind: "key", key: "h", value: { "X-A": "1", "b c": "2" }, comments: [], trailing: [] },
        { kind: "comment", lines: [" lone"] },
      ],
    },
    {
      header: "[[server]]",
      comments: [" a server"],
      trailing: [" imap"],
      items: [{ kind: "key", key: "n", value: 3, comments: [], trailing: [] }],
    },
  ]);
  assert.match(
    text,
    /^# header\n#\n\n# about a\\x00\\x1b\na = true {2}# t1\n# one\n# two\nb = \[\n {2}"CAPABILITY-0",\n/,
  );
  assert.match(text, /\[\[server\]\] {2}# imap\nn = 3\n$/);
  const doc = JSON.parse(JSON.stringify(parse(text)));
  assert.deepEqual(doc, { a: true, b: long, h: { "X-A": "1", "b c": "2" }, server: [{ n: 3 }] });
});
