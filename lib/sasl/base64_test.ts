import assert from "node:assert/strict";
import { decodeBase64Lenient, encodeBase64 } from "./base64.ts";

Deno.test("base64: encodes binary strings with padding", () => {
  assert.equal(encodeBase64(""), "");
  assert.equal(encodeBase64("f"), "Zg==");
  assert.equal(encodeBase64("fo"), "Zm8=");
  assert.equal(encodeBase64("foo"), "Zm9v");
  assert.equal(encodeBase64("\0user\0pass"), "AHVzZXIAcGFzcw==");
  assert.equal(encodeBase64("\xff\xfe\x00"), "//4A");
  assert.equal(encodeBase64("Username:"), "VXNlcm5hbWU6");
});

Deno.test("base64: decodes with and without padding", () => {
  assert.equal(decodeBase64Lenient("Zm9v"), "foo");
  assert.equal(decodeBase64Lenient("Zm8="), "fo");
  assert.equal(decodeBase64Lenient("Zm8"), "fo");
  assert.equal(decodeBase64Lenient("Zg=="), "f");
  assert.equal(decodeBase64Lenient("Zg"), "f");
  assert.equal(decodeBase64Lenient(""), "");
  assert.equal(decodeBase64Lenient("//4A"), "\xff\xfe\x00");
});

Deno.test("base64: decoding stops at the first '=' like nginx", () => {
  assert.equal(decodeBase64Lenient("Zg==garbage!!"), "f");
  assert.equal(decodeBase64Lenient("="), "");
  assert.equal(decodeBase64Lenient("Zm9v=Zm9v"), "foo");
});

Deno.test("base64: rejects a length of 1 mod 4 and characters outside the alphabet", () => {
  assert.equal(decodeBase64Lenient("Z"), null);
  assert.equal(decodeBase64Lenient("Zm9vZ"), null);
  assert.equal(decodeBase64Lenient("Zm9v Zm9v"), null);
  assert.equal(decodeBase64Lenient("*"), null);
  assert.equal(decodeBase64Lenient("Zm-v"), null);
  assert.equal(decodeBase64Lenient("Zm9\u0100"), null);
});

Deno.test("base64: round-trips every byte value", () => {
  let all = "";
  for (let i = 0; i < 256; i++) all += String.fromCharCode(i);
  for (let len = 0; len < 260; len += 37) {
    const sample = all.repeat(2).slice(len % 256, (len % 256) + len);
    assert.equal(decodeBase64Lenient(encodeBase64(sample)), sample);
    assert.equal(encodeBase64(sample), btoa(sample));
  }
});
