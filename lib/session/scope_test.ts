import assert from "node:assert/strict";
import { getLogger } from "../log/mod.ts";
import { MailproxyMetrics } from "../metrics/mailproxy_metrics.ts";
import { protocolRecord } from "../protocols/mod.ts";
import { testServerConfig } from "../../tests/helpers/server_config.ts";
import { SessionRegistry } from "./registry.ts";
import { SessionScope } from "./scope.ts";
import { FakeAuth, FakeConn, FakeTransport } from "./test_support.ts";
import { ClientHostLookup } from "../resolver/mod.ts";

function scope() {
  const registry = new SessionRegistry();
  const entry = registry.add({
    id: "t1",
    protocol: "pop3",
    server: 0,
    client: "192.0.2.7:40000",
    listen: "127.0.0.1:110",
    state: "pre-auth",
    startedAt: Date.now(),
    bytesUp: 0,
    bytesDown: 0,
  });
  const client = new FakeConn();
  const deps = {
    transport: new FakeTransport(),
    auth: new FakeAuth(),
    metrics: new MailproxyMetrics(),
    registry,
    resolver: new ClientHostLookup(),
  };
  const s = new SessionScope(
    client,
    testServerConfig({ protocol: "pop3" }),
    entry,
    deps,
    getLogger(["mailproxy", "test"]),
    protocolRecord("pop3"),
  );
  return { s, entry, client, registry };
}

Deno.test("scope: the phase machine allows the documented moves and maps the admin state", () => {
  const { s, entry } = scope();
  assert.equal(s.phase, "accept");
  for (
    const [phase, state] of [
      ["greeting", "pre-auth"],
      ["pre-auth", "pre-auth"],
      ["authenticating", "auth"],
      ["waiting", "auth"],
      ["pre-auth", "pre-auth"],
      ["authenticating", "auth"],
      ["backend-connect", "backend-login"],
      ["backend-login", "backend-login"],
      ["backend-connect", "backend-login"],
      ["backend-login", "backend-login"],
      ["relay", "relay"],
    ] as const
  ) {
    s.enter(phase);
    assert.equal(s.phase, phase);
    assert.equal(entry.info.state, state);
  }
  s.close();
  assert.equal(s.phase, "closing");
});

Deno.test("scope: a move the machine does not know is a bug, reported", () => {
  const { s } = scope();
  assert.throws(() => s.enter("relay"), /accept cannot go to relay/);
  s.enter("greeting");
  assert.throws(() => s.enter("backend-login"), /greeting cannot go to backend-login/);
  s.close();
});

Deno.test("scope: an abort before the relay closes the backend and says the protocol's goodbye", async () => {
  const { s, entry, client, registry } = scope();
  const backend = new FakeConn("10.0.0.1");
  s.enter("greeting");
  s.backend = backend;
  registry.kill("t1");
  await entry.farewell;
  assert.equal(client.written, "-ERR Session closed by administrator\r\n");
  assert.equal(client.closed, true);
  assert.equal(backend.closed, true);
  s.close();
});

Deno.test("scope: after the handoff an abort is the relay's: no goodbye from the scope", () => {
  const { s, entry, client, registry } = scope();
  for (const p of ["greeting", "pre-auth", "authenticating", "backend-connect", "backend-login"] as const) {
    s.enter(p);
  }
  s.handOff();
  registry.kill("t1");
  assert.equal(entry.farewell, undefined);
  assert.equal(client.written, "");
});
