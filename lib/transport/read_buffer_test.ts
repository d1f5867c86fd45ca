import assert from "node:assert/strict";
import { BULK_READ, IDLE_READ, ReadBuffer, relaySizing } from "./read_buffer.ts";

/** Reports a read of `n` bytes (n = "full" for a full one) and returns the next size. */
function read(rb: ReadBuffer, n: number | "full"): number {
  rb.filled(n === "full" ? rb.size : n);
  return rb.size;
}

Deno.test("relaySizing: idle reads stay small, the bulk ceiling is at least 64 KiB", () => {
  assert.deepEqual(relaySizing(4096), { min: IDLE_READ, max: BULK_READ });
  assert.deepEqual(relaySizing(4096, 1024), { min: 1024, max: 65536 });
  assert.deepEqual(relaySizing(512), { min: 512, max: 65536 }, "a buffer under 1 KiB is the idle size");
  assert.deepEqual(relaySizing(1 << 20), { min: 1024, max: 1 << 20 }, "a larger buffer raises the ceiling");
});

Deno.test("ReadBuffer: full reads double the buffer from 1 KiB past proxy_buffer = 4k up to 64 KiB", () => {
  const rb = new ReadBuffer(relaySizing(4096));
  assert.equal(rb.size, 1024);
  const sizes = [];
  for (let i = 0; i < 8; i++) sizes.push(read(rb, "full"));
  assert.deepEqual(sizes, [2048, 4096, 8192, 16384, 32768, 65536, 65536, 65536]);
});

Deno.test("ReadBuffer: a short read after a burst drops the large buffer; a full probe resumes at once", () => {
  const rb = new ReadBuffer(relaySizing(4096));
  while (rb.size < 65536) read(rb, "full");
  const large = rb.buffer;
  // The tail of a transfer: 40 000 of 65 536 bytes (more than an eighth, which used to keep
  // the 64 KiB buffer pending for as long as the session then stays idle).
  assert.equal(read(rb, 40_000), 1024, "the next (possibly long) read pins 1 KiB");
  assert.notEqual(rb.buffer, large);
  // More was already queued: the 1 KiB probe comes back full and the stream goes on at 64 KiB.
  assert.equal(read(rb, "full"), 65536);
  // Quiet: a probe that comes back short keeps the small buffer.
  assert.equal(read(rb, 30_000), 1024);
  assert.equal(read(rb, 200), 1024);
  assert.equal(read(rb, 5), 1024);
});

Deno.test("ReadBuffer: a slow producer's repeated short reads do not cost a probe each", () => {
  const rb = new ReadBuffer(relaySizing(4096));
  while (rb.size < 65536) read(rb, "full");
  // Dovecot's FETCH: every read drains the socket at 65 483 bytes.
  assert.equal(read(rb, 65_483), 1024, "the first short read probes");
  assert.equal(read(rb, "full"), 65536, "the probe came back full: mid-transfer");
  for (let i = 0; i < 10; i++) assert.equal(read(rb, 65_483), 65536, "look-alike short reads keep 64 KiB");
  assert.equal(read(rb, 64_000), 65536);
  // The transfer's tail is shorter than those: probe, and it comes back short.
  assert.equal(read(rb, 12_345), 1024);
  assert.equal(read(rb, 40), 1024);
  // The next transfer learns again: its first short read probes.
  while (rb.size < 65536) read(rb, "full");
  assert.equal(read(rb, 65_483), 1024);
});

Deno.test("ReadBuffer: a view stays valid until the next read, across growth and shrink", () => {
  const rb = new ReadBuffer({ min: 1024, max: 4096 });
  rb.buffer.fill(1);
  const first = rb.filled(1024);
  rb.buffer.fill(2);
  assert.ok(first.every((b) => b === 1), "growth reads into a fresh buffer");
  const second = rb.filled(100);
  assert.equal(second.length, 100);
  rb.buffer.fill(3);
  assert.ok(second.every((b) => b === 2), "the shrink goes to the small buffer, not the one just read");
});
