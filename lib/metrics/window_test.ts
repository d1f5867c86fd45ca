import assert from "node:assert/strict";
import { RateWindow } from "./window.ts";

Deno.test("rate window: counts recent events and forgets old ones", () => {
  let now = 1_000_000_000;
  const w = new RateWindow(() => now);
  w.add();
  w.add(2);
  assert.equal(w.sum(60_000), 3);
  now += 30_000;
  w.add();
  assert.equal(w.sum(10_000), 1, "only the current slot");
  assert.equal(w.sum(60_000), 4);
  now += 5 * 60_000;
  assert.equal(w.sum(60_000), 0, "a minute window no longer sees them");
  assert.equal(w.sum(15 * 60_000), 4, "fifteen minutes still do");
  now += 15 * 60_000;
  assert.equal(w.sum(15 * 60_000), 0);
  w.add(5);
  assert.equal(w.sum(15 * 60_000), 5, "a reused ring slot starts from zero");
});
