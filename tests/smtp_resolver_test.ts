/**
 * The resolver's UDP client (lib/resolver) against the lab DNS server on loopback: the client
 * host lookup end to end, timeouts, resending to the next server, and replies that must be
 * ignored (wrong id, wrong question, wrong sender) or refused (truncated).
 */

import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { ClientHostLookup } from "../lib/resolver/mod.ts";
import { DnsType } from "../lib/resolver/dns_message.ts";
import { udpQuery } from "../lib/resolver/udp_client.ts";
import { startDnsServer } from "./lab/dns_server.ts";

Deno.test({
  name: "resolver: UDP lookups against the lab DNS server",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const dns = await startDnsServer({
      ptr: { "127.0.0.3": "client3.test", "127.0.0.7": "drop", "127.0.0.9": "truncated", "::1": "six.test" },
      a: { "client3.test": ["127.0.0.3"] },
      aaaa: { "six.test": ["::1"] },
    });
    const server = { host: "127.0.0.1", port: dns.port };
    const resolver = new ClientHostLookup();
    const lookupClientHost = resolver.lookup.bind(resolver);
    try {
      await t.step("client host: PTR and A over UDP", async () => {
        assert.deepEqual(await lookupClientHost("127.0.0.3", [dns.address], 2000), { host: "client3.test" });
        assert.deepEqual(dns.questions.slice(-2), [
          { name: "3.0.0.127.in-addr.arpa", type: "PTR" },
          { name: "client3.test", type: "A" },
        ]);
        assert.equal((await lookupClientHost("127.0.0.200", [dns.address], 2000)).host, "[UNAVAILABLE]");
      });

      await t.step("IPv6 clients are looked up under ip6.arpa with AAAA", async () => {
        assert.deepEqual(await lookupClientHost("::1", [dns.address], 2000), { host: "six.test" });
        assert.equal(dns.questions.at(-1)?.type, "AAAA");
      });

      await t.step("no answer: the lookup gives up after the timeout", async () => {
        const started = Date.now();
        const r = await lookupClientHost("127.0.0.7", [dns.address], 300);
        const took = Date.now() - started;
        assert.equal(r.host, "[TEMPUNAVAIL]");
        assert.match(r.detail ?? "", /timed out/);
        assert.ok(took >= 280 && took < 2000, `${took} ms`);
      });

      await t.step("a truncated reply is a failure", async () => {
        const r = await udpQuery("9.0.0.127.in-addr.arpa", DnsType.PTR, {
          servers: [server],
          timeoutMs: 1000,
        });
        assert.deepEqual(r, { kind: "failure", reason: "truncated response" });
      });

      await t.step("a silent first server: the query is resent to the next one", async () => {
        const silent = createSocket("udp4");
        await new Promise<void>((r) => silent.bind(0, "127.0.0.1", () => r()));
        try {
          const r = await udpQuery("client3.test", DnsType.A, {
            servers: [{ host: "127.0.0.1", port: silent.address().port }, server],
            timeoutMs: 2000,
            resendMs: 100,
          });
          assert.equal(r.kind, "answer");
          assert.deepEqual(
            r.kind === "answer" ? [...(r.records[0] as { address: Uint8Array }).address] : [],
            [127, 0, 0, 3],
          );
        } finally {
          silent.close();
        }
      });

      await t.step("replies with a wrong id or question are ignored", async () => {
        const liar = createSocket("udp4");
        liar.on("message", (msg: Uint8Array, from: { address: string; port: number }) => {
          const wrongId = Uint8Array.from(msg);
          wrongId[0] ^= 0xff;
          wrongId[2] |= 0x80;
          liar.send(wrongId, from.port, from.address);
          const wrongQuestion = Uint8Array.from(msg);
          wrongQuestion[2] |= 0x80;
          wrongQuestion[13] = 0x78; // "client3" → "xlient3"
          liar.send(wrongQuestion, from.port, from.address);
        });
        await new Promise<void>((r) => liar.bind(0, "127.0.0.1", () => r()));
        try {
          const r = await udpQuery("client3.test", DnsType.A, {
            servers: [{ host: "127.0.0.1", port: liar.address().port }],
            timeoutMs: 400,
          });
          assert.equal(r.kind, "failure");
        } finally {
          liar.close();
        }
      });

      await t.step("an aborted lookup ends at once", async () => {
        const controller = new AbortController();
        const pending = udpQuery("7.0.0.127.in-addr.arpa", DnsType.PTR, {
          servers: [server],
          timeoutMs: 5000,
          signal: controller.signal,
        });
        setTimeout(() => controller.abort(), 50);
        assert.deepEqual(await pending, { kind: "failure", reason: "aborted" });
      });
    } finally {
      await dns.stop();
    }
  },
});
