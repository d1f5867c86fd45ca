import assert from "node:assert/strict";
import { Deadline } from "./deadline.ts";

/** Resolves once `deadline` expired (polled on timers, not timed). */
function expiry(): { promise: Promise<void>; fire: () => void } {
  let fire!: () => void;
  const promise = new Promise<void>((resolve) => (fire = resolve));
  return { promise, fire };
}

Deno.test("deadline: expires once, then says so; re-arming clears the flag", async () => {
  const d = new Deadline();
  const e = expiry();
  let calls = 0;
  d.arm(1, () => {
    calls++;
    e.fire();
  });
  assert.equal(d.expired, false);
  await e.promise;
  assert.equal(d.expired, true);
  assert.equal(calls, 1);
  const e2 = expiry();
  d.arm(1, e2.fire);
  assert.equal(d.expired, false);
  await e2.promise;
  assert.equal(d.expired, true);
});

Deno.test("deadline: disarm cancels without expiring", async () => {
  const d = new Deadline();
  let fired = false;
  d.arm(1, () => (fired = true));
  d.disarm();
  const later = expiry();
  new Deadline().arm(5, later.fire);
  await later.promise;
  assert.equal(fired, false);
  assert.equal(d.expired, false);
});

Deno.test("deadline: touch() pushes an idle deadline forward", async () => {
  const d = new Deadline();
  const e = expiry();
  d.arm(20, e.fire);
  // Activity "in the future" keeps the period alive past its first firing.
  d.touch(Date.now() + 30);
  const probe = expiry();
  new Deadline().arm(25, probe.fire);
  await probe.promise;
  assert.equal(d.expired, false, "not expired while touched");
  await e.promise;
  assert.equal(d.expired, true);
});
