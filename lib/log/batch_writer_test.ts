import assert from "node:assert/strict";
import { BatchWriter } from "./batch_writer.ts";

function collector() {
  const out: string[] = [];
  const sink = (bytes: Uint8Array, offset: number) => {
    out.push(new TextDecoder().decode(bytes.subarray(offset)));
    return bytes.length - offset;
  };
  return { out, sink };
}

Deno.test("batch writer: lines written within the delay arrive together, in order", async () => {
  const { out, sink } = collector();
  const w = new BatchWriter({ sink, delayMs: 5 });
  w.write("a\n");
  w.write("b\n");
  assert.deepEqual(out, [], "nothing written before the delay");
  await new Promise((r) => setTimeout(r, 30));
  assert.deepEqual(out, ["a\nb\n"]);
});

Deno.test("batch writer: a full batch and an explicit flush write at once", () => {
  const { out, sink } = collector();
  const w = new BatchWriter({ sink, delayMs: 60_000, maxChars: 4 });
  w.write("12\n");
  assert.deepEqual(out, []);
  w.write("34\n");
  assert.deepEqual(out, ["12\n34\n"]);
  w.write("é\n");
  w.flush();
  assert.deepEqual(out, ["12\n34\n", "é\n"]);
  w.flush();
  assert.equal(out.length, 2, "an empty flush writes nothing");
});

Deno.test("batch writer: partial writes continue; EAGAIN hands the rest to the fallback", () => {
  const got: number[] = [];
  let calls = 0;
  const fallback: Uint8Array[] = [];
  const w = new BatchWriter({
    delayMs: 60_000,
    sink: (bytes, offset) => {
      calls++;
      if (calls === 3) throw Object.assign(new Error("busy"), { code: "EAGAIN" });
      got.push(bytes[offset]);
      return 1;
    },
    fallback: (rest) => fallback.push(rest),
  });
  w.write("abcdef");
  w.flush();
  assert.deepEqual(got, [97, 98]);
  assert.equal(new TextDecoder().decode(fallback[0]), "cdef");
});
