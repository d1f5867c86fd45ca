import assert from "node:assert/strict";
import { fromBinary, toBinary } from "./bytes.ts";

Deno.test("binary strings: every byte value round-trips at every size (loop and native paths)", () => {
  for (const n of [0, 1, 23, 24, 25, 256, 5000, 70_000]) {
    const bytes = new Uint8Array(n);
    for (let i = 0; i < n; i++) bytes[i] = (i * 7919 + 13) & 0xff;
    const text = toBinary(bytes);
    assert.equal(text.length, n);
    for (let i = 0; i < n; i++) assert.equal(text.charCodeAt(i), bytes[i], `char ${i} of ${n}`);
    assert.deepEqual(fromBinary(text), bytes);
  }
});

Deno.test("binary strings: a subarray view converts only its own bytes", () => {
  const whole = new Uint8Array(100).map((_, i) => i);
  assert.equal(toBinary(whole.subarray(40, 70)), String.fromCharCode(...whole.subarray(40, 70)));
});

Deno.test("binary strings: fromBinary owns its buffer and truncates chars above 0xFF to the low byte", () => {
  const text = "x".repeat(30) + "\u0141";
  const out = fromBinary(text);
  assert.equal(out.byteOffset, 0);
  assert.equal(out.buffer.byteLength, 31);
  assert.equal(out[30], 0x41);
});
