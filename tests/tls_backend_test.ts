/**
 * TLS towards backends (issue #7, part 5; beyond nginx): `backend_tls = "on"` to
 * Dovecot's IMAPS port, `"starttls"` on its plain port, verification against
 * `backend_tls_ca` (and failures: unknown CA, wrong name), `backend_tls_verify = false`,
 * the per-login `Auth-Backend-TLS` override, and a client certificate presented to a
 * backend. Proxy under Deno and Bun.
 */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as tls from "node:tls";
import { type AuthService, startAuthService } from "./lab/auth_service.ts";
import { removeTestPki, type TestPki, testPki } from "./lab/certs.ts";
import { type Dovecot, startDovecot } from "./lab/dovecot.ts";
import { freePort } from "./lab/ports.ts";
import { startProxy } from "./helpers/proxy_process.ts";
import { RUNTIMES } from "./helpers/runtimes.ts";
import { TlsTestClient, waitForLog } from "./helpers/tls_client.ts";

/** A minimal IMAPS backend that requires a client certificate and logs anyone in. */
interface FakeBackend {
  port: number;
  /** CNs of the client certificates seen. */
  clients: string[];
  close(): void;
}

function startFakeBackend(pki: TestPki): Promise<FakeBackend> {
  const clients: string[] = [];
  const server = tls.createServer({
    cert: readFileSync(pki.serverRsa.cert),
    key: readFileSync(pki.serverRsa.key),
    ca: readFileSync(pki.ca),
    requestCert: true,
    rejectUnauthorized: true,
  }, (s) => {
    clients.push(String(s.getPeerCertificate().subject?.CN ?? ""));
    s.write("* OK fake backend\r\n");
    let buf = "";
    s.on("data", (d: Uint8Array) => {
      buf += new TextDecoder().decode(d);
      // LOGIN with literals: answer each `{n}` with a continuation, the last line with OK.
      while (buf.includes("\r\n")) {
        const line = buf.slice(0, buf.indexOf("\r\n"));
        buf = buf.slice(line.length + 2);
        if (/\{\d+\}$/.test(line)) s.write("+ go\r\n");
        else s.write("a1 OK logged in\r\n");
      }
    });
    s.on("error", () => {});
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      resolve({ port, clients, close: () => server.close() });
    });
  });
}

interface Lab {
  dovecot: Dovecot;
  pki: TestPki;
  imaps: AuthService;
  plain: AuthService;
  fake: AuthService;
  backend: FakeBackend;
}

let labPromise: Promise<Lab> | undefined;
function lab(): Promise<Lab> {
  labPromise ??= (async () => {
    const pki = await testPki();
    const dovecot = await startDovecot({ tls: pki.serverRsa });
    const imaps = await startAuthService({
      backends: { imap: { host: "127.0.0.1", port: dovecot.imapsPort! } },
    });
    const plain = await startAuthService({
      backends: { imap: { host: "127.0.0.1", port: dovecot.imapPort } },
    });
    // bob goes to the IMAPS port with TLS chosen by the auth service.
    plain.script((h) =>
      h["Auth-User"] === "bob"
        ? {
          "Auth-Status": "OK",
          "Auth-Server": "127.0.0.1",
          "Auth-Port": String(dovecot.imapsPort),
          "Auth-Backend-TLS": "on",
        }
        : undefined
    );
    const backend = await startFakeBackend(pki);
    const fake = await startAuthService({ backends: { imap: { host: "127.0.0.1", port: backend.port } } });
    return { dovecot, pki, imaps, plain, fake, backend };
  })();
  return labPromise;
}

/** Logs in on `port`; returns the LOGIN reply. */
async function login(port: number, user = "alice", pass = "alicepass"): Promise<string> {
  const c = await TlsTestClient.open(port);
  try {
    await c.readUntilLine("* OK");
    c.send(`a1 LOGIN ${user} ${pass}\r\n`);
    return await c.read((s) => /^(a1 |\* BAD)/m.test(s), 5000, 10_000);
  } finally {
    c.close();
  }
}

async function dovecotLogin(dovecot: Dovecot, user: string, count: number): Promise<string[]> {
  const deadline = Date.now() + 5000;
  while (true) {
    const lines = dovecot.log().split("\n").filter((l) => l.includes(`Login: user=<${user}>`));
    if (lines.length >= count || Date.now() > deadline) return lines;
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const runtime of RUNTIMES) {
  Deno.test({
    name: `backend TLS on ${runtime}`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      const { dovecot, pki, imaps, plain, fake, backend } = await lab();
      const ports = await Promise.all(Array.from({ length: 6 }, () => freePort()));
      const [on, starttls, noCa, noVerify, wrongName, withCert] = ports;
      const proxy = await startProxy(
        runtime,
        `
timeout = "5s"
backend_tls_ca = "${pki.ca}"

[[server]]
listen = "127.0.0.1:${on}"
protocol = "imap"
auth_http = "${imaps.url}"
backend_tls = "on"

[[server]]
listen = "127.0.0.1:${starttls}"
protocol = "imap"
auth_http = "${plain.url}"
backend_tls = "starttls"

[[server]]
listen = "127.0.0.1:${noCa}"
protocol = "imap"
auth_http = "${imaps.url}"
backend_tls = "on"
backend_tls_ca = "${pki.untrusted.cert}"

[[server]]
listen = "127.0.0.1:${noVerify}"
protocol = "imap"
auth_http = "${imaps.url}"
backend_tls = "on"
backend_tls_ca = "${pki.untrusted.cert}"
backend_tls_verify = false

[[server]]
listen = "127.0.0.1:${wrongName}"
protocol = "imap"
auth_http = "${imaps.url}"
backend_tls = "on"
backend_tls_name = "wrong.example"

[[server]]
listen = "127.0.0.1:${withCert}"
protocol = "imap"
auth_http = "${fake.url}"
backend_tls = "on"
backend_tls_certificate = "${pki.client.cert}"
backend_tls_certificate_key = "${pki.client.key}"
`,
        ports,
      );
      try {
        const before = (await dovecotLogin(dovecot, "alice", 0)).length;
        await t.step("backend_tls = on: IMAPS to Dovecot, certificate verified", async () => {
          assert.match(await login(on), /^a1 OK/m);
        });
        await t.step("backend_tls = starttls: STARTTLS on Dovecot's plain port", async () => {
          assert.match(await login(starttls), /^a1 OK/m);
          const lines = await dovecotLogin(dovecot, "alice", before + 2);
          const tlsLogins = lines.slice(before).filter((l) => /, TLS/.test(l));
          assert.equal(tlsLogins.length, 2, lines.slice(before).join("\n"));
        });
        await t.step("Auth-Backend-TLS overrides the server's backend_tls for one login", async () => {
          assert.match(await login(starttls, "bob", "bobpass"), /^a1 OK/m);
          const lines = await dovecotLogin(dovecot, "bob", 1);
          assert.match(lines.at(-1)!, /, TLS/);
        });
        await t.step(
          "a backend certificate from an unknown CA fails the login with the internal error",
          async () => {
            assert.equal(await login(noCa), "* BAD internal server error\r\n");
            await waitForLog(proxy.logs, /backend 127\.0\.0\.1:\d+ tls failed: TLS handshake failed/);
          },
        );
        await t.step("backend_tls_verify = false accepts it", async () => {
          assert.match(await login(noVerify), /^a1 OK/m);
        });
        await t.step("backend_tls_name must match the certificate", async () => {
          assert.equal(await login(wrongName), "* BAD internal server error\r\n");
        });
        await t.step("backend_tls_certificate is presented to the backend", async () => {
          assert.match(await login(withCert), /^a1 OK/m);
          assert.equal(backend.clients.at(-1), "alice");
        });
      } finally {
        await proxy.stop();
      }
    },
  });
}

Deno.test({
  name: "backend TLS lab teardown",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    if (!labPromise) return await removeTestPki();
    const { dovecot, imaps, plain, fake, backend } = await labPromise;
    for (const a of [imaps, plain, fake]) await a.stop();
    backend.close();
    await dovecot.stop();
    await removeTestPki();
  },
});
