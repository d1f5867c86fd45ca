import assert from "node:assert/strict";
import { MAX_TIMER_MS, sleep } from "./timers.ts";

/** A fake setTimeout that records the delays asked for and fires each on demand. */
function fakeTimers() {
  const asked: number[] = [];
  const pending: (() => void)[] = [];
  const setTimer = ((fn: () => void, ms: number) => {
    asked.push(ms);
    pending.push(fn);
    return 0;
  }) as unknown as typeof setTimeout;
  return { asked, setTimer, fire: () => pending.shift()?.() };
}

Deno.test("sleep: a wait beyond the timer limit is chunked, never one overflowing timer", async () => {
  const t = fakeTimers();
  const days30 = 30 * 86_400_000;
  const done = sleep(days30, undefined, t.setTimer);
  assert.deepEqual(t.asked, [MAX_TIMER_MS]);
  t.fire();
  assert.deepEqual(t.asked, [MAX_TIMER_MS, days30 - MAX_TIMER_MS]);
  t.fire();
  assert.equal(await done, true);
  assert.ok(t.asked.every((ms) => ms <= MAX_TIMER_MS));
});

Deno.test("sleep: abort ends the wait with false; an aborted signal does not wait", async () => {
  const t = fakeTimers();
  const ac = new AbortController();
  const done = sleep(5000, ac.signal, t.setTimer);
  ac.abort("bye");
  assert.equal(await done, false);
  assert.equal(await sleep(5000, ac.signal, t.setTimer), false);
  assert.equal(t.asked.length, 1);
});

Deno.test("sleep: zero or negative waits resolve at once, a short real wait resolves true", async () => {
  assert.equal(await sleep(0), true);
  assert.equal(await sleep(-1), true);
  assert.equal(await sleep(1, new AbortController().signal), true);
});
