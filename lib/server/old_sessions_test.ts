import assert from "node:assert/strict";
import { type SessionInfo, SessionRegistry } from "../session/registry.ts";
import { SHUTDOWN_REASON } from "../session/goodbye.ts";
import { OldSessions } from "./old_sessions.ts";

function info(id: string): SessionInfo {
  return {
    id,
    protocol: "imap",
    server: 0,
    client: "127.0.0.1:1",
    listen: "1143",
    state: "relay",
    startedAt: 0,
    bytesUp: 0,
    bytesDown: 0,
  };
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("old sessions: each reload retires the sessions started since the previous one", async () => {
  const registry = new SessionRegistry();
  const expired: number[] = [];
  const old = new OldSessions(registry, (n) => expired.push(n));
  const a = registry.add(info("a"));
  const b = registry.add(info("b"));
  // Generation 1 had no timeout: its sessions live on, and a later reload does not pick them up.
  assert.equal(old.retire(null), 2);
  const c = registry.add(info("c"));
  assert.equal(old.retire(5), 1, "only c started under generation 2");
  await tick(30);
  assert.deepEqual(expired, [1]);
  assert.equal(c.abort.signal.reason, SHUTDOWN_REASON);
  assert.equal(a.abort.signal.aborted, false);
  assert.equal(b.abort.signal.aborted, false);
  old.clear();
});

Deno.test("old sessions: finished sessions are forgotten and clear() cancels pending ends", async () => {
  const registry = new SessionRegistry();
  const old = new OldSessions(registry);
  const a = registry.add(info("a"));
  old.retire(5);
  old.clear();
  await tick(20);
  assert.equal(a.abort.signal.aborted, false, "cleared before it expired");
  registry.remove("a");
  const d = registry.add(info("d"));
  assert.equal(old.retire(1), 1);
  await tick(20);
  assert.equal(d.abort.signal.aborted, true);
});
