import assert from "node:assert/strict";
import { runHashPassword } from "./hash_password.ts";
import type { HashPasswordIo } from "./hash_password.ts";
import { verifyPassword } from "../auth/password_hash.ts";
import { toBinary, utf8 } from "../util/bytes.ts";

function io(inputs: string[], isTty = false) {
  const out: string[] = [];
  const err: string[] = [];
  const value: HashPasswordIo = {
    isTty,
    readStdin: () => Promise.resolve(inputs.shift() ?? ""),
    write: (s) => void out.push(s),
    error: (s) => void err.push(s),
  };
  return { value, out, err };
}

Deno.test("hash-password: piped password (one trailing newline dropped) prints a verifying hash", async () => {
  const t = io(["grüße pw\n"]);
  assert.equal(await runHashPassword(["--stdin"], t.value), 0);
  assert.equal(t.out.length, 1);
  const phc = t.out[0].trimEnd();
  assert.match(phc, /^\$scrypt\$ln=14,r=8,p=1\$/);
  assert.equal(await verifyPassword(toBinary(utf8("grüße pw")), phc, { cache: null }), true);
  assert.deepEqual(t.err, []);
});

Deno.test("hash-password: terminal asks twice on stderr and rejects a mismatch", async () => {
  const ok = io(["pw1", "pw1"], true);
  assert.equal(await runHashPassword([], ok.value), 0);
  assert.deepEqual(ok.err, ["Password: ", "Repeat password: "]);
  assert.equal(ok.out.length, 1);
  const bad = io(["pw1", "pw2"], true);
  assert.equal(await runHashPassword([], bad.value), 1);
  assert.deepEqual(bad.out, []);
});

Deno.test("hash-password: refuses a password in argv, unknown options, empty and multi-line input", async () => {
  const argv = io(["x"]);
  assert.equal(await runHashPassword(["hunter2"], argv.value), 2);
  assert.match(argv.err.join(""), /not the command line/);
  assert.ok(!argv.err.join("").includes("hunter2"));
  assert.equal(await runHashPassword(["--bogus"], io(["x"]).value), 2);
  assert.equal(await runHashPassword([], io(["\n"]).value), 1);
  assert.equal(await runHashPassword([], io(["a\nb\n"]).value), 1);
  const help = io([]);
  assert.equal(await runHashPassword(["--help"], help.value), 0);
  assert.match(help.out.join(""), /usage/);
});
