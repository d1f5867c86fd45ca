import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfigFile } from "../config/load.ts";
import { runtimeTransport } from "../transport/mod.ts";
import { Mailproxy, unappliedListenOptions, upstreamChanges } from "./mailproxy.ts";
import type { UpstreamConfig } from "../config/types.ts";

const transport = await runtimeTransport();

function blocker(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(
      0,
      "127.0.0.1",
      () => resolve({ server, port: (server.address() as { port: number }).port }),
    );
  });
}

async function unusedPort(): Promise<number> {
  const b = await blocker();
  await new Promise((r) => b.server.close(r));
  return b.port;
}

const toml = (ports: number[]) =>
  `auth_http = "http://127.0.0.1:9/auth"\n` +
  ports.map((p) => `[[server]]\nlisten = "127.0.0.1:${p}"\nprotocol = "imap"\n`).join("");

Deno.test("reload: an address that cannot be bound refuses the whole reload", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mailproxy-reload-"));
  const file = join(dir, "proxy.toml");
  const taken = await blocker();
  const [firstPort, freePort] = [await unusedPort(), await unusedPort()];
  writeFileSync(file, toml([firstPort]));
  const loaded = await loadConfigFile(file);
  assert.ok(loaded.ok, loaded.ok ? "" : loaded.errors.join("\n"));
  const proxy = new Mailproxy(loaded.config, transport);
  await proxy.start();
  try {
    const before = proxy.listeners;
    writeFileSync(file, toml([freePort, taken.port]));
    const r = await proxy.reload();
    assert.equal(r.ok, false);
    assert.ok(
      !r.ok && r.reason === "invalid" && /listen "127\.0\.0\.1:\d+"/.test(r.errors[0]),
      JSON.stringify(r),
    );
    assert.deepEqual(proxy.listeners, before, "nothing changed");
    assert.equal(proxy.metrics.configReloads.get({ result: "failed" }), 1);

    writeFileSync(file, toml([freePort]));
    const ok = await proxy.reload();
    assert.ok(ok.ok, JSON.stringify(ok));
    assert.deepEqual(proxy.listeners.map((l) => l.listen), [`127.0.0.1:${freePort}`]);
    assert.ok(ok.changes.some((c) => c.startsWith("stopped listening on 127.0.0.1:")));
  } finally {
    await proxy.stop(0);
    await new Promise((r) => taken.server.close(r));
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(await proxy.reload(), {
    ok: false,
    reason: "stopping",
    errors: ["mailproxy is shutting down"],
  });
});

Deno.test("listen options a socket API cannot set are named; backlog only where Deno.listen is used", () => {
  const spec = {
    raw: "127.0.0.1:1143 backlog=64 rcvbuf=8k",
    transport: "tcp" as const,
    host: "127.0.0.1",
    port: 1143,
    ssl: false,
    proxy_protocol: false,
    backlog: 64,
    rcvbuf: 8192,
  };
  assert.deepEqual(unappliedListenOptions(spec, false), ["rcvbuf", "backlog"]);
  assert.deepEqual(unappliedListenOptions(spec, true), ["rcvbuf"]);
  assert.deepEqual(unappliedListenOptions({ ...spec, backlog: undefined, rcvbuf: undefined }, false), []);
});

Deno.test("state Mailproxy owns: a reload clears the resolver's servers; ids carry the copy's prefix", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mailproxy-owned-"));
  const file = join(dir, "proxy.toml");
  writeFileSync(file, toml([await unusedPort()]));
  const loaded = await loadConfigFile(file);
  assert.ok(loaded.ok, loaded.ok ? "" : loaded.errors.join("\n"));
  const proxy = new Mailproxy(loaded.config, transport, { sessionIdPrefix: "w2-" });
  const other = new Mailproxy(loaded.config, transport);
  await proxy.start();
  try {
    const servers = proxy.resolver.servers(["127.0.0.1:5353"]);
    assert.equal(proxy.resolver.servers(["127.0.0.1:5353"]), servers, "kept between sessions");
    assert.equal(other.resolver.size, 0, "two instances share nothing");
    assert.match(proxy.registry.newId(), /^w2-[0-9a-z]+$/);
    assert.match(other.registry.newId(), /^[0-9a-z]+$/);
    const ok = await proxy.reload();
    assert.ok(ok.ok, JSON.stringify(ok));
    assert.equal(proxy.resolver.size, 0, "a reload resolves the resolver names again");
    assert.notEqual(proxy.resolver.servers(["127.0.0.1:5353"]), servers);
  } finally {
    await proxy.stop(0);
    rmSync(dir, { recursive: true, force: true });
  }
});

Deno.test("reload names the upstreams added, changed and removed", () => {
  const pool = (name: string, weight = 1): UpstreamConfig => ({
    name,
    protocol: "imap",
    hash: "user",
    sticky: 1000,
    max_reconnects: 2,
    health_check: { interval: 5000, timeout: 2000, fails: 2, passes: 2 },
    backend_tls: null,
    proxy_protocol: null,
    servers: [{ address: "127.0.0.1:1", host: "127.0.0.1", port: 1, weight, backup: false, state: "up" }],
  });
  assert.deepEqual(upstreamChanges([pool("a"), pool("b"), pool("c")], [pool("a"), pool("b", 2), pool("d")]), [
    "upstream b changed",
    "upstream d added",
    "upstream c removed",
  ]);
});
