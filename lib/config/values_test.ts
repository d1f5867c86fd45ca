import assert from "node:assert/strict";
import { MAX_TIMER_MS, parseDuration, parseSize } from "./values.ts";

const ms = (text: string) => {
  const r = parseDuration(text);
  return r.ok ? r.value : r.error;
};
const bytes = (text: string) => {
  const r = parseSize(text);
  return r.ok ? r.value : r.error;
};

Deno.test("durations use nginx units and store milliseconds", () => {
  assert.equal(ms("60s"), 60_000);
  assert.equal(ms("500ms"), 500);
  assert.equal(ms("5m"), 300_000);
  assert.equal(ms("24h"), 86_400_000);
  assert.equal(ms("1d"), 86_400_000);
  assert.equal(ms("1h30m"), 5_400_000);
  assert.equal(ms("1h 30m"), 5_400_000);
  assert.equal(ms("1m30"), 90_000, "trailing bare number is seconds");
  assert.equal(ms("90"), 90_000, "bare number is seconds");
  assert.equal(ms("0"), 0);
  assert.equal(ms("1s500ms"), 1500);
  assert.equal(ms("2w"), 14 * 86_400_000);
});

Deno.test("bad durations are rejected with an example", () => {
  for (const bad of ["", "abc", "5x", "-5s", "1.5s", "30m1h", "1s1s", "s", "5 s x", "10 20"]) {
    const r = parseDuration(bad);
    assert.equal(r.ok, false, `"${bad}" should fail`);
    if (!r.ok) assert.match(r.error, /invalid duration|too long/);
  }
  const r = parseDuration("abc");
  assert.ok(!r.ok && r.error === 'invalid duration "abc" (e.g. "60s", "500ms", "5m", "1h30m")');
});

Deno.test("durations beyond the JS timer limit are refused (they would fire at once)", () => {
  assert.equal(ms("24d"), 24 * 86_400_000);
  assert.ok(24 * 86_400_000 < MAX_TIMER_MS);
  assert.equal(ms("25d"), 'duration "25d" is too long (at most 24 days)');
  assert.equal(ms("1y"), 'duration "1y" is too long (at most 24 days)');
});

Deno.test("sizes: k/m/g suffixes in any case, bare number is bytes", () => {
  assert.equal(bytes("4k"), 4096);
  assert.equal(bytes("64K"), 65_536);
  assert.equal(bytes("1m"), 1_048_576);
  assert.equal(bytes("1G"), 1_073_741_824);
  assert.equal(bytes("512"), 512);
  assert.equal(bytes("0"), 0);
  for (const bad of ["", "4kb", "1.5k", "k", "-1", "4 kk", "1t"]) {
    assert.equal(parseSize(bad).ok, false, `"${bad}" should fail`);
  }
  assert.equal(bytes("4kb"), 'invalid size "4kb" (e.g. "4k", "64K", "1m", or bytes)');
});
