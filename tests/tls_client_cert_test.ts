/**
 * Client certificates (issue #7, part 3): ssl_verify_client on / optional /
 * optional_no_ca with ssl_client_certificate or ssl_trusted_certificate, ssl_crl,
 * ssl_verify_depth; nginx's certificate replies (spec §4.0.1); the Auth-SSL-Verify /
 * Subject / Issuer / Serial / Fingerprint / Cert headers; SASL EXTERNAL. Proxy under
 * Deno and Bun, real Dovecot behind it.
 */

import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import {
  type AuthHeaders,
  type AuthService,
  startAuthService,
  unescapeAuthValue,
} from "./lab/auth_service.ts";
import { removeTestPki, type TestPki, testPki } from "./lab/certs.ts";
import { type Dovecot, startDovecot } from "./lab/dovecot.ts";
import { freePort } from "./lab/ports.ts";
import { startProxy } from "./helpers/proxy_process.ts";
import { RUNTIMES } from "./helpers/runtimes.ts";
import { type TlsClientOptions, TlsTestClient, waitForLog } from "./helpers/tls_client.ts";

interface Lab {
  dovecot: Dovecot;
  auth: AuthService;
  pki: TestPki;
}

let labPromise: Promise<Lab> | undefined;
function lab(): Promise<Lab> {
  labPromise ??= (async () => {
    const pki = await testPki();
    const dovecot = await startDovecot();
    const auth = await startAuthService({
      backends: { imap: { host: "127.0.0.1", port: dovecot.imapPort } },
    });
    // EXTERNAL: the certificate vouches for the user; anything but a verified alice is refused.
    auth.script((h): AuthHeaders | undefined => {
      if ((h["Auth-Method"] ?? "") !== "external") return undefined;
      const ok = h["Auth-SSL-Verify"] === "SUCCESS" && /^CN=alice,/.test(h["Auth-SSL-Subject"] ?? "") &&
        unescapeAuthValue(h["Auth-User"] ?? "") === "alice";
      return ok
        ? {
          "Auth-Status": "OK",
          "Auth-Server": "127.0.0.1",
          "Auth-Port": String(dovecot.imapPort),
          "Auth-Pass": "alicepass",
        }
        : { "Auth-Status": "Certificate does not match", "Auth-Wait": "0" };
    });
    return { dovecot, auth, pki };
  })();
  return labPromise;
}

/** The fingerprint nginx sends: lowercase hex SHA-1 of the DER, no colons. */
function fingerprint(pemFile: string): string {
  return new X509Certificate(readFileSync(pemFile)).fingerprint.replaceAll(":", "").toLowerCase();
}

for (const runtime of RUNTIMES) {
  Deno.test({
    name: `client certificates on ${runtime}`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      const { auth, pki } = await lab();
      const [on, optional, noCa, deep] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
      const proxy = await startProxy(
        runtime,
        `
server_name = "mail.test"
auth_http = "${auth.url}"
timeout = "10s"
ssl_certificate = "${pki.serverEc.cert}"
ssl_certificate_key = "${pki.serverEc.key}"

[[server]]
listen = "127.0.0.1:${on} ssl"
protocol = "imap"
imap_auth = ["plain", "external"]
ssl_verify_client = "on"
ssl_client_certificate = "${pki.ca}"
ssl_crl = "${pki.crl}"
auth_http_pass_client_cert = true

[[server]]
listen = "127.0.0.1:${optional}"
protocol = "imap"
starttls = "on"
ssl_verify_client = "optional"
ssl_trusted_certificate = "${pki.ca}"
ssl_verify_depth = 0

[[server]]
listen = "127.0.0.1:${noCa} ssl"
protocol = "imap"
ssl_verify_client = "optional_no_ca"

[[server]]
listen = "127.0.0.1:${deep} ssl"
protocol = "imap"
ssl_verify_client = "on"
ssl_client_certificate = "${pki.ca}"
ssl_verify_depth = 1
`,
        [on, optional, noCa, deep],
      );
      const base = { ca: pki.ca };
      const alice: TlsClientOptions = { ...base, cert: pki.client.cert, key: pki.client.key };
      /** Implicit TLS, greeting read; returns the greeting (or a refusal line). */
      const open = async (port: number, opts: TlsClientOptions) => {
        const c = await TlsTestClient.openTls(port, opts);
        const first = await c.read((s) => s.includes("\r\n"), 3000, 5000);
        return { c, first };
      };
      try {
        await t.step("on: a verified certificate passes; Auth-SSL-* describe it like nginx", async () => {
          const { c, first } = await open(on, alice);
          try {
            assert.equal(first, "* OK IMAP4 ready\r\n");
            const before = auth.requests.length;
            c.send("a1 LOGIN alice alicepass\r\n");
            assert.match(await c.readUntilLine("a1 "), /^a1 OK/m);
            const h = auth.requests[before];
            assert.equal(h["Auth-SSL"], "on");
            assert.equal(h["Auth-SSL-Verify"], "SUCCESS");
            assert.equal(h["Auth-SSL-Subject"], "CN=alice,O=mailproxy test,C=XX");
            assert.equal(h["Auth-SSL-Issuer"], "CN=Test Root CA,O=mailproxy test");
            assert.equal(
              h["Auth-SSL-Serial"],
              new X509Certificate(readFileSync(pki.client.cert)).serialNumber,
            );
            assert.equal(h["Auth-SSL-Fingerprint"], fingerprint(pki.client.cert));
            const pem = unescapeAuthValue(h["Auth-SSL-Cert"]);
            assert.equal(pem.trim(), readFileSync(pki.client.cert, "utf8").trim());
            assert.match(h["Auth-SSL-Cert"], /^-----BEGIN%20CERTIFICATE-----%0A/);
            const names = auth.headerPairs[before].map(([n]) => n);
            assert.deepEqual(
              names.filter((n) => n.startsWith("Auth-SSL")),
              [
                "Auth-SSL",
                "Auth-SSL-Protocol",
                "Auth-SSL-Cipher",
                "Auth-SSL-Verify",
                "Auth-SSL-Subject",
                "Auth-SSL-Issuer",
                "Auth-SSL-Serial",
                "Auth-SSL-Fingerprint",
                "Auth-SSL-Cert",
              ],
            );
          } finally {
            c.close();
          }
        });

        await t.step("on: SASL EXTERNAL logs in on the strength of the certificate", async () => {
          const { c } = await open(on, alice);
          try {
            c.send("e0 CAPABILITY\r\n");
            assert.match(await c.readUntilLine("e0 "), /AUTH=EXTERNAL/);
            c.send(`e1 AUTHENTICATE EXTERNAL ${btoa("alice")}\r\n`);
            assert.match(await c.readUntilLine("e1 "), /^e1 OK/m);
            c.send("e2 SELECT INBOX\r\n");
            assert.match(await c.readUntilLine("e2 "), /^e2 OK/m);
          } finally {
            c.close();
          }
          const other = await open(on, alice);
          other.c.send(`e3 AUTHENTICATE EXTERNAL ${btoa("bob")}\r\n`);
          assert.equal(await other.c.readUntilLine("e3 "), "e3 NO Certificate does not match\r\n");
          other.c.close();
        });

        await t.step("on: no certificate → '* BYE No required SSL certificate' and close", async () => {
          const { c, first } = await open(on, base);
          assert.equal(first, "* BYE No required SSL certificate\r\n");
          assert.equal(await c.waitClosed(), true);
        });

        for (
          const [what, key] of [["an untrusted", "untrusted"], ["a revoked (ssl_crl)", "revoked"]] as const
        ) {
          await t.step(`on: ${what} certificate → '* BYE SSL certificate error' and close`, async () => {
            const { c, first } = await open(on, { ...base, cert: pki[key].cert, key: pki[key].key });
            assert.equal(first, "* BYE SSL certificate error\r\n");
            assert.equal(await c.waitClosed(), true);
          });
        }

        await t.step("on with ssl_crl: every CA level needs a CRL (nginx's CRL_CHECK_ALL)", async () => {
          const { c, first } = await open(on, { ...base, cert: pki.chained.chain, key: pki.chained.key });
          assert.equal(first, "* BYE SSL certificate error\r\n");
          c.close();
          await waitForLog(
            proxy.logs,
            /client SSL certificate verify error: \(3:unable to get certificate CRL\)/,
          );
          await waitForLog(proxy.logs, /client SSL certificate verify error: \(23:certificate revoked\)/);
        });

        await t.step(
          "ssl_verify_depth 1 accepts client → intermediate → root; depth 0 refuses it",
          async () => {
            const chained = { ...base, cert: pki.chained.chain, key: pki.chained.key };
            const ok = await open(deep, chained);
            assert.equal(ok.first, "* OK IMAP4 ready\r\n");
            ok.c.close();
            const c = await TlsTestClient.open(optional);
            await c.readUntilLine("* OK");
            c.send("d1 STARTTLS\r\n");
            await c.readUntilLine("d1 ");
            await c.startTls(chained);
            assert.equal(
              await c.read((s) => s.includes("\r\n"), 3000, 5000),
              "* BYE SSL certificate error\r\n",
            );
            c.close();
            await waitForLog(proxy.logs, /\(22:certificate chain too long\)/);
          },
        );

        await t.step("optional (after STARTTLS): no certificate is fine and reported as NONE", async () => {
          for (const [opts, verify] of [[base, "NONE"], [alice, "SUCCESS"]] as const) {
            const c = await TlsTestClient.open(optional);
            try {
              await c.readUntilLine("* OK");
              c.send("o1 STARTTLS\r\n");
              await c.readUntilLine("o1 ");
              await c.startTls(opts);
              const before = auth.requests.length;
              c.send("o2 LOGIN alice alicepass\r\n");
              assert.match(await c.readUntilLine("o2 "), /^o2 OK/m);
              assert.equal(auth.requests[before]["Auth-SSL-Verify"], verify);
              assert.equal(
                auth.requests[before]["Auth-SSL-Cert"],
                undefined,
                "not without auth_http_pass_client_cert",
              );
            } finally {
              c.close();
            }
          }
        });

        await t.step("optional_no_ca: an unknown issuer is tolerated and reported as FAILED", async () => {
          const { c, first } = await open(noCa, {
            ...base,
            cert: pki.untrusted.cert,
            key: pki.untrusted.key,
          });
          try {
            assert.equal(first, "* OK IMAP4 ready\r\n");
            const before = auth.requests.length;
            c.send("n1 LOGIN alice alicepass\r\n");
            assert.match(await c.readUntilLine("n1 "), /^n1 OK/m);
            assert.match(auth.requests[before]["Auth-SSL-Verify"], /^FAILED:/);
            assert.equal(auth.requests[before]["Auth-SSL-Subject"], "CN=eve,O=mailproxy test");
          } finally {
            c.close();
          }
        });
      } finally {
        await proxy.stop();
      }
    },
  });
}

Deno.test({
  name: "client certificate lab teardown",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    if (!labPromise) return await removeTestPki();
    const { dovecot, auth } = await labPromise;
    await auth.stop();
    await dovecot.stop();
    await removeTestPki();
  },
});
