import assert from "node:assert/strict";
import type { AuthProvider, AuthRequest, AuthResult } from "./types.ts";
import { type AuthCacheSettings, AuthResultCache, CachingAuthProvider } from "./result_cache.ts";

const SETTINGS: AuthCacheSettings = {
  ttl: 300_000,
  negative_ttl: 30_000,
  stale_if_error: 3_600_000,
  client_ip: false,
  max_entries: 1000,
};

function request(over: Partial<AuthRequest> = {}): AuthRequest {
  return {
    protocol: "imap",
    method: "plain",
    user: "alice",
    pass: "alicepass",
    attempt: 1,
    clientIp: "192.0.2.1",
    clientPort: 5000,
    sessionId: "1",
    ...over,
  };
}

/** A provider answering from a script, counting calls. */
function scripted(answer: (req: AuthRequest) => AuthResult): AuthProvider & { calls: number } {
  const p = {
    name: "http",
    calls: 0,
    authenticate(req: AuthRequest) {
      p.calls++;
      return Promise.resolve(answer(req));
    },
  };
  return p;
}

const OK: AuthResult = { status: "ok", server: "127.0.0.1", port: 143, pass: "backend-secret-9q" };

Deno.test("auth cache: five logins cost one request; a changed password misses", async () => {
  const inner = scripted((r) => r.pass === "alicepass" ? OK : { status: "fail", message: "bad", wait: 0 });
  const p = new CachingAuthProvider(inner, new AuthResultCache(), () => SETTINGS);
  for (let i = 0; i < 5; i++) assert.deepEqual(await p.authenticate(request()), OK);
  assert.equal(inner.calls, 1);
  assert.equal((await p.authenticate(request({ pass: "changed" }))).status, "fail");
  assert.equal(inner.calls, 2);
  // The refusal is cached too (negative_ttl).
  await p.authenticate(request({ pass: "changed" }));
  assert.equal(inner.calls, 2);
});

Deno.test("auth cache: CRAM-MD5, APOP, EXTERNAL and none always ask", async () => {
  const inner = scripted(() => OK);
  const p = new CachingAuthProvider(inner, new AuthResultCache(), () => SETTINGS);
  for (const method of ["cram-md5", "apop", "external", "none"] as const) {
    await p.authenticate(request({ method, salt: "<1.2@x>" }));
    await p.authenticate(request({ method, salt: "<1.2@x>" }));
  }
  assert.equal(inner.calls, 8);
});

Deno.test("auth cache: Auth-Cache: no and Auth-Cache-TTL are obeyed; errors are never cached", () => {
  const cache = new AuthResultCache();
  const req = request();
  const key = cache.keyOf(req, SETTINGS);
  assert.equal(cache.put(req, key, { ...OK, cache: { no: true } }, SETTINGS, 0), false);
  assert.equal(cache.put(req, key, { status: "error", reason: "x" }, SETTINGS, 0), false);
  assert.equal(cache.put(req, key, { ...OK, cache: { ttlSeconds: 10 } }, SETTINGS, 0), true);
  assert.ok(cache.get(req, key, 9_999));
  assert.equal(cache.get(req, key, 10_000), undefined);
});

Deno.test("auth cache: the key and the stored bytes hold neither password; a flipped byte is rejected", () => {
  const cache = new AuthResultCache();
  const req = request();
  const key = cache.keyOf(req, SETTINGS);
  cache.put(req, key, OK, SETTINGS, 0);
  assert.ok(!key.includes("alicepass"));
  assert.equal(cache.tamper(key), true);
  assert.equal(cache.get(req, key, 1), undefined);
  assert.equal(cache.size, 0, "a bad entry is dropped");
});

Deno.test("auth cache: an entry cannot be opened with another password (same key forced)", () => {
  const cache = new AuthResultCache();
  const req = request();
  const key = cache.keyOf(req, SETTINGS);
  cache.put(req, key, OK, SETTINGS, 0);
  assert.equal(cache.get(request({ pass: "other" }), key, 1), undefined);
});

Deno.test("auth cache: client_ip keys by address; per-user flush; stale_if_error serves a good login", async () => {
  let down = false;
  const inner = scripted(() => down ? { status: "error", reason: "auth down" } : OK);
  const cache = new AuthResultCache();
  const settings = { ...SETTINGS, client_ip: true, ttl: 1 };
  const p = new CachingAuthProvider(inner, cache, () => settings);
  await p.authenticate(request());
  await p.authenticate(request({ clientIp: "192.0.2.2" }));
  await p.authenticate(request({ user: "bob" }));
  assert.equal(cache.size, 3);
  assert.equal(cache.flushUser("alice"), 2);
  assert.equal(cache.size, 1);
  await p.authenticate(request());
  await new Promise((r) => setTimeout(r, 5));
  down = true;
  assert.deepEqual(await p.authenticate(request()), OK, "stale while the auth service fails");
  assert.equal(cache.counts.stale, 1);
  assert.equal((await p.authenticate(request({ user: "carol" }))).status, "error");
});

Deno.test("auth cache: max_entries drops the oldest", () => {
  const cache = new AuthResultCache();
  const settings = { ...SETTINGS, max_entries: 2 };
  for (const user of ["a", "b", "c"]) {
    const req = request({ user });
    cache.put(req, cache.keyOf(req, settings), OK, settings, 0);
  }
  assert.equal(cache.size, 2);
  const a = request({ user: "a" });
  assert.equal(cache.get(a, cache.keyOf(a, settings), 1), undefined);
});
