import assert from "node:assert/strict";
import { fromBinary, toBinary } from "../../util/bytes.ts";
import { CommandBuffer } from "./command_buffer.ts";

const text = (b: CommandBuffer) => toBinary(b.bytes.subarray(b.start, b.end));

Deno.test("command buffer: push, consume, take, clear", () => {
  const b = new CommandBuffer();
  assert.equal(b.length, 0);
  assert.equal(b.push(fromBinary("NOOP\r\nUSER a\r\n")), 0);
  assert.equal(b.consume(6), 6);
  assert.equal(text(b), "USER a\r\n");
  assert.equal(b.consume(b.end), 0, "fully consumed: back to index 0");
  assert.equal(b.length, 0);
  b.push(fromBinary("abc"));
  assert.equal(toBinary(b.take()), "abc");
  assert.equal(b.length, 0);
  b.push(fromBinary("xyz"));
  b.clear();
  assert.equal(b.length, 0);
  assert.equal(b.push(new Uint8Array(0)), 0);
});

Deno.test("command buffer: compacts when room is needed and reports the shift", () => {
  const b = new CommandBuffer();
  b.push(fromBinary("x".repeat(250) + "tail")); // store of 256 bytes
  assert.equal(b.consume(250), 250);
  assert.equal(b.push(fromBinary("12")), 0, "fits behind the data: nothing moves");
  assert.equal(b.push(fromBinary("3".repeat(10))), 250, "moved to the front");
  assert.equal(b.start, 0);
  assert.equal(text(b), "tail12" + "3".repeat(10));
  // Growing keeps the bytes and also reports the shift.
  b.consume(4);
  const shift = b.push(fromBinary("y".repeat(1000)));
  assert.equal(shift, 4);
  assert.equal(text(b), "12" + "3".repeat(10) + "y".repeat(1000));
});

Deno.test("command buffer: copies the pushed bytes", () => {
  const b = new CommandBuffer();
  const chunk = fromBinary("abc");
  b.push(chunk);
  chunk[0] = 0x7a;
  assert.equal(text(b), "abc");
});
