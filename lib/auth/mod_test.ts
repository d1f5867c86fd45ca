import assert from "node:assert/strict";
import { createAuthProvider, HttpAuthProvider, StaticAuthProvider } from "./mod.ts";
import type { ServerConfig, StaticAuthConfig } from "../config/types.ts";
import type { Transport } from "../transport/types.ts";

const transport: Transport = {
  runtime: "deno",
  listen: () => Promise.reject(new Error("unused")),
  connect: () => Promise.reject(new Error("unused")),
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

Deno.test("createAuthProvider: picks by auth and shares instances with equal settings", async () => {
  const staticAuth: StaticAuthConfig = { backend: {}, users: [] };
  const a = createAuthProvider(server({}), staticAuth, transport);
  const b = createAuthProvider(server({ index: 1 }), staticAuth, transport);
  const c = createAuthProvider(server({ auth_http_timeout: 5000 }), staticAuth, transport);
  assert.ok(a instanceof HttpAuthProvider);
  assert.equal(a, b);
  assert.notEqual(a, c);
  const s1 = createAuthProvider(server({ auth: "static" }), staticAuth, transport);
  const s2 = createAuthProvider(server({ auth: "static", auth_http: null }), staticAuth, transport);
  assert.ok(s1 instanceof StaticAuthProvider);
  assert.equal(s1, s2);
  // A new config generation gets new providers.
  assert.notEqual(createAuthProvider(server({ auth: "static" }), { backend: {}, users: [] }, transport), s1);
  // auth = "http" without a URL fails each login instead of throwing.
  const broken = createAuthProvider(server({ auth_http: null }), staticAuth, transport);
  assert.equal((await broken.authenticate({} as never)).status, "error");
});
