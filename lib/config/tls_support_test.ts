import assert from "node:assert/strict";
import { testServerConfig } from "../../tests/helpers/server_config.ts";
import { clientTlsProblems, protocolRange } from "./tls_support.ts";

const tlsServer = (over = {}) =>
  testServerConfig({
    starttls: "on",
    ssl_certificate: ["a.pem"],
    ssl_certificate_key: ["a.key"],
    ssl_protocols: ["TLSv1.2", "TLSv1.3"],
    ssl_ciphers: "HIGH:!aNULL:!MD5",
    ssl_session_cache: "none",
    ssl_session_tickets: true,
    ssl_session_timeout: 300_000,
    ...over,
  });

Deno.test("nginx's defaults work on both runtimes; servers without TLS are not checked", () => {
  assert.deepEqual(clientTlsProblems(tlsServer(), "deno"), []);
  assert.deepEqual(clientTlsProblems(tlsServer(), "bun"), []);
  assert.deepEqual(clientTlsProblems(testServerConfig({ ssl_ciphers: "RC4", starttls: "off" }), "deno"), []);
});

Deno.test("Deno refuses what rustls cannot honour; Bun accepts it", () => {
  const server = tlsServer({
    ssl_certificate: ["rsa.pem", "ec.pem"],
    ssl_certificate_key: ["rsa.key", "ec.key"],
    ssl_protocols: ["TLSv1.1", "TLSv1.2"],
    ssl_ciphers: "ECDHE+AESGCM",
    ssl_prefer_server_ciphers: true,
    ssl_session_tickets: false,
    ssl_session_timeout: 60_000,
  });
  const deno = clientTlsProblems(server, "deno");
  assert.equal(deno.length, 6, deno.join("\n"));
  for (
    const key of [
      "ssl_certificate",
      "TLSv1.1",
      "ssl_ciphers",
      "ssl_prefer_server_ciphers",
      "ssl_session_tickets",
      "ssl_session_timeout",
    ]
  ) {
    assert.ok(deno.some((e) => e.includes(key)), key);
  }
  assert.deepEqual(clientTlsProblems(server, "bun"), []);
});

Deno.test("both runtimes: gaps in ssl_protocols and a session cache", () => {
  const server = tlsServer({ ssl_protocols: ["TLSv1", "TLSv1.3"], ssl_session_cache: "shared:MAIL:10m" });
  assert.equal(clientTlsProblems(server, "bun").length, 2);
  for (const runtime of ["deno", "bun"] as const) {
    const cache = clientTlsProblems(tlsServer({ ssl_session_cache: "builtin" }), runtime);
    assert.equal(cache.length, 1);
    assert.match(cache[0], /^ssl_session_cache = "builtin": .*no session cache.*newSession\/resumeSession/);
    assert.match(cache[0], /session tickets, which are on by default/);
    assert.deepEqual(clientTlsProblems(tlsServer({ ssl_session_cache: "off" }), runtime), []);
  }
  assert.deepEqual(protocolRange(["TLSv1.3", "TLSv1.2"]), { min: "TLSv1.2", max: "TLSv1.3" });
  assert.equal(protocolRange(["TLSv1", "TLSv1.2"]), null);
});
