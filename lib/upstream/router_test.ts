import assert from "node:assert/strict";
import type { AuthOk } from "../auth/types.ts";
import type { UpstreamConfig } from "../config/types.ts";
import { MailproxyMetrics } from "../metrics/mailproxy_metrics.ts";
import { MemoryRouteStore } from "./memory_store.ts";
import { PASSIVE_RETRY_MS, RouteError, UpstreamRouter } from "./router.ts";

function pool(extra: Partial<UpstreamConfig> = {}): UpstreamConfig {
  const server = (n: number, more = {}) => ({
    address: `127.0.0.1:${n}`,
    host: "127.0.0.1",
    port: n,
    weight: 1,
    backup: false,
    state: "up" as const,
    ...more,
  });
  return {
    name: "imap_main",
    protocol: "imap",
    hash: "user",
    sticky: 60_000,
    max_reconnects: 2,
    health_check: { interval: 5000, timeout: 2000, fails: 2, passes: 2 },
    backend_tls: null,
    proxy_protocol: null,
    servers: [server(1001), server(1002), server(1003, { backup: true })],
    ...extra,
  };
}

function setup(u = pool()) {
  let now = 1_000_000;
  const kicked: string[] = [];
  const metrics = new MailproxyMetrics();
  const router = new UpstreamRouter([u], {
    store: new MemoryRouteStore(),
    metrics,
    kick: (id) => (kicked.push(id), true),
    now: () => now,
    flushPauseMs: 0,
  });
  return { router, metrics, kicked, tick: (ms: number) => (now += ms) };
}

const ok = (user?: string): AuthOk => ({ status: "ok", server: "", port: 0, upstream: "imap_main", user });

/** Logs `login` in: tries candidates, failing those in `dead`; returns the server it landed on. */
async function login(router: UpstreamRouter, login: string, id: string, dead = new Set<string>()) {
  const t = router.targets(ok(), "imap", login, id);
  while (true) {
    const c = await t.next();
    if (c === null) return { server: null, targets: t };
    if (dead.has(c.address)) {
      await t.report(c, "transport");
      continue;
    }
    await t.report(c, "ok");
    return { server: c.address, targets: t };
  }
}

Deno.test("router: same server across sessions; sticky while sessions live and `sticky` after", async () => {
  const { router, tick } = setup();
  const first = await login(router, "alice", "s1");
  assert.ok(first.server);
  assert.deepEqual(await router.route("alice"), [{
    upstream: "imap_main",
    server: first.server,
    source: "sticky",
  }]);
  first.targets.ended();
  tick(59_000);
  assert.equal((await router.route("alice"))[0].source, "sticky");
  tick(2_000);
  assert.equal((await router.route("alice"))[0].source, "hash");
});

Deno.test("router: a transport failure moves to the next server; failures mark it unhealthy", async () => {
  const { router, metrics } = setup(
    pool({ health_check: { interval: 5000, timeout: 2000, fails: 1, passes: 2 } }),
  );
  const { server: home } = await login(router, "bob", "x");
  const dead = new Set([home!]);
  const second = await login(router, "bob", "y", dead);
  assert.ok(second.server && second.server !== home && second.server !== "127.0.0.1:1003");
  assert.equal(metrics.upstreamFailovers.get({ upstream: "imap_main", server: home! }), 1);
  const status = (await router.status())[0].servers.find((s) => s.address === home)!;
  assert.equal(status.healthy, false);
  assert.equal(metrics.upstreamServerUp.get({ upstream: "imap_main", server: home! }), 0);
});

Deno.test("router: every primary down → backup; nothing at all → null", async () => {
  const { router } = setup();
  const dead = new Set(["127.0.0.1:1001", "127.0.0.1:1002"]);
  assert.equal((await login(router, "carol", "a", dead)).server, "127.0.0.1:1003");
  dead.add("127.0.0.1:1003");
  assert.equal((await login(router, "dave", "b", dead)).server, null);
});

Deno.test("router: rejected password is final and creates no route", async () => {
  const { router } = setup();
  const t = router.targets(ok(), "imap", "eve", "s");
  const c = (await t.next())!;
  await t.report(c, "rejected");
  assert.equal((await router.route("eve"))[0].source, "hash");
});

Deno.test("router: Auth-User is the affinity key; unknown upstream and protocol mismatch are problems", async () => {
  const { router } = setup();
  const t = router.targets(ok("real@example.org"), "imap", "alias", "s");
  await t.report((await t.next())!, "ok");
  assert.equal((await router.route("real@example.org"))[0].source, "sticky");
  assert.match(
    router.targets({ ...ok(), upstream: "nope" }, "imap", "a", "s").problem!,
    /unknown upstream "nope"/,
  );
  assert.match(router.targets(ok(), "pop3", "a", "s").problem!, /is imap, not pop3/);
});

Deno.test("router: drain keeps sticky users, takes no new ones; flush drops routes and kicks", async () => {
  const { router, kicked } = setup();
  const users = Array.from({ length: 40 }, (_, i) => `user${i}`);
  const homes = new Map<string, string>();
  for (const u of users) homes.set(u, (await login(router, u, `id-${u}`)).server!);
  const drained = "127.0.0.1:1001";
  await router.setServer("imap_main", drained, { state: "drain" });
  for (const u of users) {
    const again = await login(router, u, `again-${u}`);
    assert.equal(again.server, homes.get(u), "existing users stay");
  }
  for (let i = 0; i < 40; i++) assert.notEqual((await login(router, `new${i}`, `n${i}`)).server, drained);
  const onDrained = users.filter((u) => homes.get(u) === drained);
  assert.ok(onDrained.length > 0);
  const flushed = await router.flush("imap_main", drained);
  assert.equal(flushed.sessions, onDrained.length * 2);
  assert.equal(kicked.length, onDrained.length * 2);
  for (const u of onDrained) assert.notEqual((await router.route(u))[0].server, drained);
});

Deno.test("router: pin moves one user and kicks its sessions elsewhere; delete forgets it", async () => {
  const { router, kicked } = setup();
  const { server } = await login(router, "frank", "f1");
  const other = server === "127.0.0.1:1001" ? "127.0.0.1:1002" : "127.0.0.1:1001";
  const r = await router.pin("frank", other);
  assert.deepEqual(r, { upstream: "imap_main", kicked: 1 });
  assert.deepEqual(kicked, ["f1"]);
  assert.deepEqual((await router.route("frank"))[0], { upstream: "imap_main", server: other, source: "pin" });
  assert.equal((await login(router, "frank", "f2")).server, other);
  assert.equal(await router.unpin("frank"), 1);
  assert.notEqual((await router.route("frank"))[0].source, "pin");
  await assert.rejects(router.pin("frank", "10.9.9.9:1"), RouteError);
});

Deno.test("router: active checks bring a server back after `passes`; passive-only after the retry time", async () => {
  const { router } = setup();
  const s = "127.0.0.1:1002";
  await router.recordCheck("imap_main", s, false);
  assert.equal((await router.status())[0].servers[1].healthy, true, "one failure is not enough");
  await router.recordCheck("imap_main", s, false);
  assert.equal((await router.status())[0].servers[1].healthy, false);
  await router.recordCheck("imap_main", s, true);
  assert.equal((await router.status())[0].servers[1].healthy, false);
  await router.recordCheck("imap_main", s, true);
  assert.equal((await router.status())[0].servers[1].healthy, true);

  const passive = setup(pool({ health_check: { interval: 0, timeout: 1000, fails: 1, passes: 1 } }));
  const dead = new Set(["127.0.0.1:1001", "127.0.0.1:1002"]);
  await login(passive.router, "g", "g1", dead);
  assert.ok((await passive.router.status())[0].servers.slice(0, 2).every((x) => !x.healthy));
  passive.tick(PASSIVE_RETRY_MS);
  assert.ok((await passive.router.status())[0].servers.every((x) => x.healthy));
});
