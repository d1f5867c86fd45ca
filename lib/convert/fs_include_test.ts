import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fsIncludeReader, segmentRegExp } from "./fs_include.ts";

Deno.test("glob segments: * ? [] and [!] as glob(3), other characters literal", () => {
  assert.ok(segmentRegExp("*.conf").test("imap.conf"));
  assert.ok(!segmentRegExp("*.conf").test("imap.confx"));
  assert.ok(segmentRegExp("mail?.conf").test("mail1.conf"));
  assert.ok(segmentRegExp("[ab]*.c(1)+").test("b.c(1)+"));
  assert.ok(!segmentRegExp("[!ab]*").test("a.conf"));
  assert.ok(segmentRegExp("[").test("["));
});

Deno.test("fsIncludeReader: relative to the conf dir, sorted, no dot files, errors as nginx words them", () => {
  const dir = mkdtempSync(join(tmpdir(), "mailproxy-include-"));
  try {
    mkdirSync(join(dir, "conf.d"));
    writeFileSync(join(dir, "conf.d", "b.conf"), "b;");
    writeFileSync(join(dir, "conf.d", "a.conf"), "a;");
    writeFileSync(join(dir, "conf.d", ".hidden.conf"), "h;");
    writeFileSync(join(dir, "conf.d", "c.txt"), "c;");
    const read = fsIncludeReader(dir);
    const r = read("conf.d/*.conf");
    assert.ok("files" in r);
    assert.deepEqual(r.files.map((f) => [f.path, f.text]), [
      [join(dir, "conf.d", "a.conf"), "a;"],
      [join(dir, "conf.d", "b.conf"), "b;"],
    ]);
    assert.deepEqual(read(join(dir, "*", "c.txt")), {
      files: [{ path: join(dir, "conf.d", "c.txt"), text: "c;" }],
    });
    assert.deepEqual(read("nothing/*.conf"), { files: [] });
    assert.deepEqual(read("missing.conf"), {
      error: `open() "${join(dir, "missing.conf")}" failed (No such file or directory)`,
    });
    assert.deepEqual(read("conf.d"), { error: `open() "${join(dir, "conf.d")}" failed (Is a directory)` });
    assert.ok("error" in read("conf.d/[z-a].conf"), "a bad range is an error, not a crash");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
