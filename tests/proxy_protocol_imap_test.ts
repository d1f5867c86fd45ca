/**
 * PROXY protocol and the real client's address (issue #7, part 4, and IMAP ID of part 5):
 * - a load balancer (this test) sends PROXY v1/v2 into mailproxy; `set_real_ip_from`
 *   decides whom to trust; the auth service gets Client-IP = the real client and the
 *   Proxy-Protocol-* headers; mailproxy's log names the real client;
 * - mailproxy sends PROXY v2 to Dovecot (`haproxy = yes`, `haproxy_trusted_networks`),
 *   which logs the original address — also for a TLS client (v2 with TLS TLVs);
 * - without PROXY support on the backend, IMAP ID carries the address to Dovecot
 *   (`login_trusted_networks`);
 * - a header from a peer outside `set_real_ip_from`, or on a listen without it, is read
 *   as nginx reads it (issue #18 item 5): the client stays the TCP peer, the PROXY
 *   addresses go to auth_http as Proxy-Protocol-*; the auth_http request is byte for byte
 *   nginx's (side by side with nginx, with and without realip, PROXY v1 and v2);
 * - a broken header is refused.
 * Proxy under Deno and under Bun.
 */

import assert from "node:assert/strict";
import { type AuthService, startAuthService } from "./lab/auth_service.ts";
import { removeTestPki, type TestPki, testPki } from "./lab/certs.ts";
import { type Dovecot, startDovecot } from "./lab/dovecot.ts";
import { type Nginx, startNginxMail } from "./lab/nginx.ts";
import { freePorts } from "./lab/ports.ts";
import { startProxy } from "./helpers/proxy_process.ts";
import { RUNTIMES } from "./helpers/runtimes.ts";
import { TlsTestClient, waitForLog } from "./helpers/tls_client.ts";
import { proxyV2 } from "../lib/proxy_protocol/writer.ts";

interface Lab {
  dovecot: Dovecot;
  /** Sends logins to Dovecot's PROXY-protocol listener. */
  authHaproxy: AuthService;
  /** Sends logins to Dovecot's plain listener (IMAP ID). */
  authPlain: AuthService;
  pki: TestPki;
  /** nginx with PROXY-protocol listens in front of Dovecot: `bare` (no realip) and `realip`. */
  nginx: Nginx;
}

let labPromise: Promise<Lab> | undefined;
function lab(): Promise<Lab> {
  labPromise ??= (async () => {
    const pki = await testPki();
    const dovecot = await startDovecot({
      haproxy: true,
      extraConfig: "login_trusted_networks = 127.0.0.0/8\n",
    });
    const authHaproxy = await startAuthService({
      backends: { imap: { host: "127.0.0.1", port: dovecot.imapHaproxyPort! } },
    });
    const authPlain = await startAuthService({
      backends: { imap: { host: "127.0.0.1", port: dovecot.imapPort } },
    });
    const nginx = await startNginxMail({
      authHttp: authPlain.url,
      servers: `
server { listen 127.0.0.1:{{port:bare}} proxy_protocol; protocol imap; }
server { listen 127.0.0.1:{{port:realip}} proxy_protocol; protocol imap; set_real_ip_from 127.0.0.1; }
`,
    });
    return { dovecot, authHaproxy, authPlain, pki, nginx };
  })();
  return labPromise;
}

const enc = (s: string) => new TextEncoder().encode(s);

/** Polls Dovecot's log for a line matching `re` (logins are logged asynchronously). */
async function dovecotLogs(dovecot: Dovecot, re: RegExp, ms = 5000): Promise<string> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const line = dovecot.log().split("\n").find((l) => re.test(l));
    if (line) return line;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no Dovecot log line matching ${re}:\n${dovecot.log().split("\n").slice(-15).join("\n")}`);
}

let octet = 10;

for (const runtime of RUNTIMES) {
  Deno.test({
    name: `PROXY protocol and real client addresses on ${runtime}`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      const { dovecot, authHaproxy, authPlain, pki, nginx } = await lab();
      const [pp, ppTls, untrusted, idPort, bare, realip] = await freePorts(6);
      const proxy = await startProxy(
        runtime,
        `
server_name = "mail.test"
timeout = "5s"
ssl_certificate = "${pki.serverRsa.cert}"
ssl_certificate_key = "${pki.serverRsa.key}"

[[server]]
listen = "127.0.0.1:${pp} proxy_protocol"
protocol = "imap"
auth_http = "${authHaproxy.url}"
set_real_ip_from = ["127.0.0.0/8"]
proxy_protocol = "v2"

[[server]]
listen = "127.0.0.1:${ppTls} ssl proxy_protocol"
protocol = "imap"
auth_http = "${authHaproxy.url}"
set_real_ip_from = ["127.0.0.1"]
proxy_protocol = "v2"

[[server]]
listen = "127.0.0.1:${untrusted} proxy_protocol"
protocol = "imap"
auth_http = "${authPlain.url}"
set_real_ip_from = ["192.0.2.0/24"]

[[server]]
listen = "127.0.0.1:${idPort} proxy_protocol"
protocol = "imap"
auth_http = "${authPlain.url}"
set_real_ip_from = ["localhost"]
imap_id = true

[[server]]
listen = "127.0.0.1:${bare} proxy_protocol"
protocol = "imap"
auth_http = "${authPlain.url}"

[[server]]
listen = "127.0.0.1:${realip} proxy_protocol"
protocol = "imap"
auth_http = "${authPlain.url}"
set_real_ip_from = ["127.0.0.1"]
`,
        [pp, ppTls, untrusted, idPort, bare, realip],
      );
      try {
        await t.step("PROXY v2 in, PROXY v2 out: Dovecot logs the original client", async () => {
          const real = `203.0.113.${octet++}`;
          const header = proxyV2({ srcAddr: real, srcPort: 40123, dstAddr: "192.0.2.1", dstPort: 143 });
          const c = await TlsTestClient.open(pp, { proxyHeader: header });
          try {
            const before = authHaproxy.requests.length;
            assert.equal(await c.readUntilLine("* OK"), "* OK IMAP4 ready\r\n");
            c.send("a1 LOGIN alice alicepass\r\n");
            assert.match(await c.readUntilLine("a1 "), /^a1 OK/m);
            const h = authHaproxy.requests[before];
            assert.equal(h["Client-IP"], real);
            assert.equal(h["Proxy-Protocol-Addr"], real);
            assert.equal(h["Proxy-Protocol-Port"], "40123");
            assert.equal(h["Proxy-Protocol-Server-Addr"], "192.0.2.1");
            assert.equal(h["Proxy-Protocol-Server-Port"], "143");
            c.send("a2 LOGOUT\r\n");
            await c.waitClosed();
          } finally {
            c.close();
          }
          const line = await dovecotLogs(
            dovecot,
            new RegExp(`Login: user=<alice>.*rip=${real.replaceAll(".", "\\.")}`),
          );
          assert.match(
            line,
            /lip=127\.0\.0\.1/,
            "the local address is where the client connected to mailproxy",
          );
          await waitForLog(
            proxy.logs,
            new RegExp(`client ${real}:40123 \\(PROXY protocol from 127\\.0\\.0\\.1:\\d+\\)`),
          );
        });

        await t.step(
          "PROXY v1 then TLS (listen … ssl proxy_protocol), v2 with TLS TLVs to Dovecot",
          async () => {
            const real = `198.51.100.${octet++}`;
            const c = await TlsTestClient.openTls(ppTls, {
              ca: pki.ca,
              proxyHeader: enc(`PROXY TCP4 ${real} 127.0.0.1 5555 993\r\n`),
            });
            try {
              assert.equal(await c.readUntilLine("* OK"), "* OK IMAP4 ready\r\n");
              const before = authHaproxy.requests.length;
              c.send("b1 LOGIN alice alicepass\r\n");
              assert.match(await c.readUntilLine("b1 "), /^b1 OK/m);
              assert.equal(authHaproxy.requests[before]["Client-IP"], real);
              assert.equal(authHaproxy.requests[before]["Auth-SSL"], "on");
            } finally {
              c.close();
            }
            await dovecotLogs(dovecot, new RegExp(`Login: user=<alice>.*rip=${real.replaceAll(".", "\\.")}`));
          },
        );

        await t.step("IMAP ID carries the real client to a backend without PROXY support", async () => {
          const real = `192.0.2.${octet++}`;
          const c = await TlsTestClient.open(idPort, {
            proxyHeader: enc(`PROXY TCP4 ${real} 127.0.0.1 6000 143\r\n`),
          });
          try {
            await c.readUntilLine("* OK");
            c.send("i1 LOGIN alice alicepass\r\n");
            const reply = await c.readUntilLine("i1 ");
            assert.match(reply, /^i1 OK/m);
            assert.doesNotMatch(reply, /\* ID|mp1/, "the ID exchange is not shown to the client");
          } finally {
            c.close();
          }
          await dovecotLogs(dovecot, new RegExp(`Login: user=<alice>.*rip=${real.replaceAll(".", "\\.")}`));
        });

        for (
          const [what, port] of [["from a peer outside set_real_ip_from", untrusted], [
            "on a listen without set_real_ip_from",
            bare,
          ]] as const
        ) {
          await t.step(
            `a PROXY header ${what}: read, not applied, its addresses go to auth_http`,
            async () => {
              const before = authPlain.requests.length;
              const c = await TlsTestClient.open(port, {
                proxyHeader: enc("PROXY TCP4 203.0.113.99 192.0.2.5 1234 143\r\n"),
              });
              try {
                assert.equal(await c.readUntilLine("* OK"), "* OK IMAP4 ready\r\n");
                c.send("u1 LOGIN alice alicepass\r\n");
                assert.match(await c.readUntilLine("u1 "), /^u1 OK/m);
                const h = authPlain.requests[before];
                assert.equal(h["Client-IP"], "127.0.0.1", "the client stays the TCP peer");
                assert.equal(h["Proxy-Protocol-Addr"], "203.0.113.99");
                assert.equal(h["Proxy-Protocol-Port"], "1234");
                assert.equal(h["Proxy-Protocol-Server-Addr"], "192.0.2.5");
                assert.equal(h["Proxy-Protocol-Server-Port"], "143");
              } finally {
                c.close();
              }
              await waitForLog(
                proxy.logs,
                /PROXY protocol source 203\.0\.113\.99:1234 not applied: 127\.0\.0\.1:\d+ is not in set_real_ip_from/,
              );
            },
          );
        }

        await t.step(
          "the auth_http request is nginx's, byte for byte (with and without realip, v1 and v2)",
          async () => {
            const headers = [
              enc(`PROXY TCP4 198.51.100.${octet++} 192.0.2.9 4711 143\r\n`),
              proxyV2({ srcAddr: "2001:db8::17", srcPort: 5151, dstAddr: "2001:db8::1", dstPort: 143 }),
            ];
            for (const header of headers) {
              for (const [theirs, ours] of [[nginx.ports.bare, bare], [nginx.ports.realip, realip]]) {
                const raw: string[] = [];
                for (const port of [theirs, ours]) {
                  const before = authPlain.rawRequests.length;
                  const c = await TlsTestClient.open(port, { proxyHeader: header });
                  try {
                    await c.readUntilLine("* OK");
                    c.send("n1 LOGIN alice wrong\r\n");
                    await c.readUntilLine("n1 ");
                  } finally {
                    c.close();
                  }
                  raw.push(authPlain.rawRequests[before]);
                }
                assert.match(raw[0], /Proxy-Protocol-Addr: /, "nginx sent the PROXY addresses");
                assert.equal(raw[1], raw[0], `mailproxy on ${ours} vs nginx on ${theirs}`);
              }
            }
          },
        );

        await t.step("broken and missing headers close the connection without a reply", async () => {
          const c = await TlsTestClient.open(pp);
          c.send("a1 LOGIN alice alicepass\r\n");
          assert.equal(await c.read(() => false, 1000, 2000), "");
          assert.equal(await c.waitClosed(), true);
          await waitForLog(proxy.logs, /broken header: "\d+ bytes of non-PROXY data, not logged/);
          assert.doesNotMatch(
            proxy.logs(),
            /alicepass/,
            "the client's command (with its password) is not logged",
          );
          const silent = await TlsTestClient.open(pp);
          assert.equal(await silent.waitClosed(7000), true, "closed by timeout");
        });

        await t.step("PROXY v2 LOCAL (health check): no realip, no Proxy-Protocol-* headers", async () => {
          const local = proxyV2({ srcAddr: null, srcPort: 0, dstAddr: "127.0.0.1", dstPort: 0 });
          const c = await TlsTestClient.open(pp, { proxyHeader: local });
          try {
            await c.readUntilLine("* OK");
            const before = authHaproxy.requests.length;
            c.send("l1 LOGIN alice wrong\r\n");
            await c.readUntilLine("l1 ");
            assert.equal(authHaproxy.requests[before]["Client-IP"], "127.0.0.1");
            assert.equal(authHaproxy.requests[before]["Proxy-Protocol-Addr"], undefined);
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
  name: "PROXY protocol lab teardown",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    if (!labPromise) return await removeTestPki();
    const { dovecot, authHaproxy, authPlain, nginx } = await labPromise;
    await nginx.stop();
    await authHaproxy.stop();
    await authPlain.stop();
    await dovecot.stop();
    await removeTestPki();
  },
});
