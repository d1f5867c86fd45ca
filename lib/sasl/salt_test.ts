import assert from "node:assert/strict";
import { makeSalt } from "./salt.ts";

Deno.test("salt: <RANDOM.UNIXTIME@server_name>", () => {
  assert.equal(
    makeSalt("mail.example.com", () => 0.5, () => 1_700_000_000_999),
    "<1073741824.1700000000@mail.example.com>",
  );
});

Deno.test("salt: RANDOM stays within 0..2^31-1", () => {
  assert.equal(makeSalt("h", () => 0, () => 0), "<0.0@h>");
  assert.equal(makeSalt("h", () => 0.9999999999999999, () => 0), "<2147483647.0@h>");
  assert.equal(makeSalt("h", () => Number.NaN, () => 0), "<0.0@h>");
});

Deno.test("salt: defaults to Math.random and Date.now", () => {
  const salt = makeSalt("host");
  const match = /^<(\d+)\.(\d+)@host>$/.exec(salt);
  assert.ok(match, salt);
  assert.ok(Math.abs(Number(match[2]) - Date.now() / 1000) < 5);
});
