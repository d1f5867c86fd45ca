import assert from "node:assert/strict";
import { chooseServers, type ServerView } from "./choose.ts";
import { hrwOrder } from "./hash.ts";

function view(address: string, extra: Partial<ServerView> = {}): ServerView {
  return { address, weight: 1, backup: false, state: "up", healthy: true, sessions: 0, ...extra };
}

const A = "10.0.0.1:143", B = "10.0.0.2:143", C = "10.0.0.3:143", BK = "10.0.0.9:143";

Deno.test("choose: hash order over up servers, cut to 1 + max_reconnects", () => {
  const servers = [view(A), view(B), view(C)];
  const c = chooseServers({ servers, key: "alice", pinned: null, sticky: null, tries: 3 });
  assert.equal(c.source, "hash");
  assert.deepEqual(c.order.map((s) => s.address), hrwOrder("alice", servers).map((s) => s.address));
  assert.equal(
    chooseServers({ servers, key: "alice", pinned: null, sticky: null, tries: 2 }).order.length,
    2,
  );
});

Deno.test("choose: pin first, then sticky; both skipped when their server is down or unhealthy", () => {
  const servers = [view(A), view(B), view(C, { state: "drain" })];
  let c = chooseServers({ servers, key: "alice", pinned: B, sticky: C, tries: 3 });
  assert.equal(c.source, "pin");
  assert.equal(c.order[0].address, B);
  c = chooseServers({ servers, key: "alice", pinned: null, sticky: C, tries: 3 });
  assert.equal(c.source, "sticky");
  assert.equal(c.order[0].address, C, "a draining server keeps its sticky users");
  assert.ok(!c.order.slice(1).some((s) => s.address === C));
  const down = [view(A), view(B, { healthy: false }), view(C, { state: "down" })];
  c = chooseServers({ servers: down, key: "alice", pinned: B, sticky: C, tries: 3 });
  assert.equal(c.source, "hash");
  assert.deepEqual(c.order.map((s) => s.address), [A]);
});

Deno.test("choose: drain takes no new users; backup only after every other server", () => {
  const servers = [view(A, { state: "drain" }), view(B), view(BK, { backup: true })];
  for (let i = 0; i < 200; i++) {
    const c = chooseServers({ servers, key: `u${i}`, pinned: null, sticky: null, tries: 3 });
    assert.deepEqual(c.order.map((s) => s.address), [B, BK]);
  }
  const allDown = [view(A, { healthy: false }), view(B, { state: "down" }), view(BK, { backup: true })];
  assert.deepEqual(
    chooseServers({ servers: allDown, key: "x", pinned: null, sticky: null, tries: 3 }).order.map((s) =>
      s.address
    ),
    [BK],
  );
});

Deno.test("choose: nothing healthy → the up servers anyway; nothing up → empty", () => {
  const sick = [view(A, { healthy: false }), view(B, { healthy: false, state: "drain" })];
  assert.deepEqual(
    chooseServers({ servers: sick, key: "x", pinned: null, sticky: null, tries: 3 }).order.map((s) =>
      s.address
    ),
    [A],
  );
  const off = [view(A, { state: "down" }), view(B, { state: "drain" })];
  assert.deepEqual(chooseServers({ servers: off, key: "x", pinned: null, sticky: null, tries: 3 }).order, []);
});

Deno.test("choose: hash = none is least connections per weight", () => {
  const servers = [view(A, { sessions: 5 }), view(B, { sessions: 2 }), view(C, { sessions: 6, weight: 4 })];
  const c = chooseServers({ servers, key: null, pinned: null, sticky: null, tries: 3 });
  assert.equal(c.source, "least_conn");
  assert.deepEqual(c.order.map((s) => s.address), [C, B, A]);
});
