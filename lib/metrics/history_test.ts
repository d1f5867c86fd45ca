import assert from "node:assert/strict";
import { HISTORY_MINUTES, MinuteHistory } from "./history.ts";

Deno.test("history: sums per minute, maxima per minute, an hour long, old minutes forgotten", () => {
  let now = 10 * 60_000;
  const logins = new MinuteHistory("sum", () => now);
  const sessions = new MinuteHistory("max", () => now);
  logins.record(2);
  logins.record(3);
  sessions.record(7);
  sessions.record(4);
  now += 60_000;
  logins.record(1);
  assert.equal(logins.series().length, HISTORY_MINUTES);
  assert.deepEqual(logins.series().slice(-2), [5, 1]);
  assert.deepEqual(sessions.series().slice(-2), [7, 0]);
  now += HISTORY_MINUTES * 60_000;
  assert.ok(logins.series().every((v) => v === 0));
});
