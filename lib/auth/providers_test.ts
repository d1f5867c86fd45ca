import assert from "node:assert/strict";
import { AuthProviders, hashPassword, HttpAuthProvider, StaticAuthProvider, VerifyCache } from "./mod.ts";
import type { ServerConfig, StaticAuthConfig } from "../config/types.ts";
import type { Transport } from "../transport/types.ts";

const transport: Transport = {
  runtime: "deno",
  listen: () => Promise.reject(new Error("unused")),
  connect: () => Promise.reject(new Error("unused")),
  connectUnix: () => Promise.reject(new Error("unused")),
};

function server(over: Partial<ServerConfig>): ServerConfig {
  return {
    auth: "http",
    auth_http: {
      raw: "http://127.0.0.1:9000/auth",
      transport: "tcp",
      host: "127.0.0.1",
      port: 9000,
      uri: "/auth",
      hostHeader: "127.0.0.1",
    },
    auth_http_header: [],
    auth_http_pass_client_cert: false,
    auth_http_timeout: 60000,
    ...over,
  } as ServerConfig;
}

Deno.test("AuthProviders: picks by auth and shares instances with equal settings", async () => {
  const providers = new AuthProviders(transport, null);
  const createAuthProvider = (s: ServerConfig, a: StaticAuthConfig) => providers.for(s, a);
  const staticAuth: StaticAuthConfig = { backend: {}, users: [] };
  const a = createAuthProvider(server({}), staticAuth);
  const b = createAuthProvider(server({ index: 1 }), staticAuth);
  const c = createAuthProvider(server({ auth_http_timeout: 5000 }), staticAuth);
  assert.ok(a instanceof HttpAuthProvider);
  assert.equal(a, b);
  assert.notEqual(a, c);
  const s1 = createAuthProvider(server({ auth: "static" }), staticAuth);
  const s2 = createAuthProvider(server({ auth: "static", auth_http: null }), staticAuth);
  assert.ok(s1 instanceof StaticAuthProvider);
  assert.equal(s1, s2);
  // A new config generation gets new providers.
  assert.notEqual(createAuthProvider(server({ auth: "static" }), { backend: {}, users: [] }), s1);
  // auth = "http" without a URL fails each login instead of throwing.
  const broken = createAuthProvider(server({ auth_http: null }), staticAuth);
  assert.equal((await broken.authenticate({} as never)).status, "error");
});

Deno.test("AuthProviders: static providers verify through the cache the owner passes in", async () => {
  const hash = await hashPassword("alicepass", { params: { ln: 4, r: 8, p: 1 } });
  const staticAuth: StaticAuthConfig = {
    backend: { imap: { host: "127.0.0.1", port: 143 } },
    users: [{ name: "alice", password: hash, backend: {} }],
    failure_wait: 0,
  };
  const login = (pass: string) => ({
    protocol: "imap" as const,
    method: "plain" as const,
    user: "alice",
    pass,
    attempt: 1,
    clientIp: "127.0.0.1",
    clientPort: 1,
    sessionId: "t",
  });
  const cache = new VerifyCache();
  const provider = new AuthProviders(transport, cache).for(server({ auth: "static" }), staticAuth);
  assert.equal((await provider.authenticate(login("wrong"))).status, "fail");
  assert.equal(cache.size, 0, "a failed verification is not cached");
  assert.equal((await provider.authenticate(login("alicepass"))).status, "ok");
  assert.equal(cache.size, 1, "a success lands in the owner's cache");
  const uncached = new AuthProviders(transport, null).for(server({ auth: "static" }), staticAuth);
  assert.equal((await uncached.authenticate(login("alicepass"))).status, "ok");
  assert.equal(cache.size, 1, "another owner's providers do not share it");
});
