/**
 * Side by side with nginx (libnginx-mod-mail 1.22) for TLS: the IMAP capability lists
 * under starttls off / on / only before and after STARTTLS, the replies around
 * STARTTLS, the client-certificate refusals, and the Auth-SSL-* headers the auth
 * service receives (names, order and values), with the same certificates and clients.
 */

import assert from "node:assert/strict";
import { startAuthService } from "./lab/auth_service.ts";
import { removeTestPki, testPki } from "./lab/certs.ts";
import { startDovecot } from "./lab/dovecot.ts";
import { startNginxMail } from "./lab/nginx.ts";
import { freePort } from "./lab/ports.ts";
import { startProxy } from "./helpers/proxy_process.ts";
import { type TlsClientOptions, TlsTestClient } from "./helpers/tls_client.ts";

/** Greeting, CAPABILITY, LOGIN attempt, STARTTLS, CAPABILITY after TLS: what the client saw. */
async function starttlsTranscript(port: number, tlsOpts: TlsClientOptions): Promise<string[]> {
  const c = await TlsTestClient.open(port);
  const out: string[] = [];
  try {
    out.push(await c.readUntilLine("* OK"));
    c.send("c1 CAPABILITY\r\n");
    out.push(await c.readUntilLine("c1 "));
    c.send("c2 LOGIN nobody nothing\r\n");
    out.push(await c.read((s) => /^c2 /m.test(s), 3000, 5000));
    if (c.closed) return out;
    c.send("c3 STARTTLS\r\n");
    out.push(await c.readUntilLine("c3 "));
    if (!/^c3 OK/.test(out.at(-1)!)) return out;
    await c.startTls(tlsOpts);
    c.send("c4 CAPABILITY\r\n");
    out.push(await c.readUntilLine("c4 "));
    c.send("c5 STARTTLS\r\n");
    out.push(await c.readUntilLine("c5 "));
    return out;
  } finally {
    c.close();
  }
}

/** First line after an implicit-TLS handshake with the given client certificate. */
async function firstLine(port: number, opts: TlsClientOptions): Promise<string> {
  const c = await TlsTestClient.openTls(port, opts);
  try {
    return await c.read((s) => s.includes("\r\n"), 3000, 5000);
  } finally {
    c.close();
  }
}

Deno.test({
  name: "TLS behaviour is identical to nginx's",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const pki = await testPki();
    const dovecot = await startDovecot();
    const auth = await startAuthService({
      backends: { imap: { host: "127.0.0.1", port: dovecot.imapPort } },
    });
    const sslBlock = (prefix: string) =>
      prefix === "nginx"
        // nginx 1.22 still defaults to TLSv1-1.2; state the modern default (1.23.4+) both sides use.
        ? `ssl_certificate ${pki.serverRsa.cert}; ssl_certificate_key ${pki.serverRsa.key}; ` +
          "ssl_protocols TLSv1.2 TLSv1.3;"
        : `ssl_certificate = "${pki.serverRsa.cert}"\nssl_certificate_key = "${pki.serverRsa.key}"`;
    const nginx = await startNginxMail({
      authHttp: auth.url,
      mailLevel: `server_name mail.test; imap_auth plain login; ${sslBlock("nginx")}`,
      servers: `
server { listen 127.0.0.1:{{port:off}}; protocol imap; }
server { listen 127.0.0.1:{{port:on}}; protocol imap; starttls on; }
server { listen 127.0.0.1:{{port:only}}; protocol imap; starttls only; }
server { listen 127.0.0.1:{{port:cert}} ssl; protocol imap; ssl_verify_client on;
         ssl_client_certificate ${pki.ca}; auth_http_pass_client_cert on; }
server { listen 127.0.0.1:{{port:optional}} ssl; protocol imap; ssl_verify_client optional;
         ssl_client_certificate ${pki.ca}; }`,
    });
    const ours: Record<string, number> = {};
    for (const name of ["off", "on", "only", "cert", "optional"]) ours[name] = await freePort();
    const proxy = await startProxy(
      "deno",
      `server_name = "mail.test"
auth_http = "${auth.url}"
imap_auth = ["plain", "login"]
${sslBlock("ours")}
[[server]]
listen = "127.0.0.1:${ours.off}"
protocol = "imap"
[[server]]
listen = "127.0.0.1:${ours.on}"
protocol = "imap"
starttls = "on"
[[server]]
listen = "127.0.0.1:${ours.only}"
protocol = "imap"
starttls = "only"
[[server]]
listen = "127.0.0.1:${ours.cert} ssl"
protocol = "imap"
ssl_verify_client = "on"
ssl_client_certificate = "${pki.ca}"
auth_http_pass_client_cert = true
[[server]]
listen = "127.0.0.1:${ours.optional} ssl"
protocol = "imap"
ssl_verify_client = "optional"
ssl_client_certificate = "${pki.ca}"
`,
      Object.values(ours),
    );
    const tlsOpts = { ca: pki.ca };
    const alice = { ...tlsOpts, cert: pki.client.cert, key: pki.client.key };
    try {
      for (const mode of ["off", "on", "only"]) {
        await t.step(`starttls ${mode}: capabilities, LOGIN, STARTTLS, capabilities after TLS`, async () => {
          const theirs = await starttlsTranscript(nginx.ports[mode], tlsOpts);
          const mine = await starttlsTranscript(ours[mode], tlsOpts);
          assert.deepEqual(mine, theirs);
        });
      }

      await t.step("client certificate refusals", async () => {
        for (const opts of [tlsOpts, { ...tlsOpts, cert: pki.untrusted.cert, key: pki.untrusted.key }]) {
          assert.equal(await firstLine(ours.cert, opts), await firstLine(nginx.ports.cert, opts));
        }
        // nginx answers a revoked/unknown certificate and a missing one differently; both checked above.
      });

      await t.step("Auth-SSL-* headers: same names, order and values", async () => {
        const requestFor = async (port: number, opts: TlsClientOptions) => {
          const c = await TlsTestClient.openTls(port, opts);
          try {
            await c.readUntilLine("* OK");
            const before = auth.headerPairs.length;
            c.send("a1 LOGIN alice alicepass\r\n");
            await c.readUntilLine("a1 ");
            return {
              pairs: auth.headerPairs[before],
              protocol: c.tls.getProtocol(),
              cipher: c.tls.getCipher().name,
            };
          } finally {
            c.close();
          }
        };
        for (const [name, opts] of [["cert", alice], ["optional", tlsOpts], ["optional", alice]] as const) {
          const theirs = await requestFor(nginx.ports[name], opts);
          const mine = await requestFor(ours[name], opts);
          const ssl = (r: typeof mine) => r.pairs.filter(([n]) => n.startsWith("Auth-SSL"));
          assert.deepEqual(
            mine.pairs.map(([n]) => n),
            theirs.pairs.map(([n]) => n),
            "header names and order",
          );
          // Protocol and cipher are what each server negotiated with this client.
          const expect = (r: typeof mine) =>
            ssl(r).map(([n, v]) =>
              n === "Auth-SSL-Protocol" ? [n, r.protocol] : n === "Auth-SSL-Cipher" ? [n, r.cipher] : [n, v]
            );
          assert.deepEqual(ssl(theirs), expect(theirs), "nginx reports the negotiated protocol and cipher");
          assert.deepEqual(
            ssl(mine).filter(([n]) => n !== "Auth-SSL-Cipher"),
            ssl(theirs).filter(([n]) => n !== "Auth-SSL-Cipher"),
          );
          assert.deepEqual(ssl(mine), expect(mine));
        }
      });
    } finally {
      await proxy.stop();
      await nginx.stop();
      await auth.stop();
      await dovecot.stop();
      await removeTestPki();
    }
  },
});
