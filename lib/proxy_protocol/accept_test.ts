import assert from "node:assert/strict";
import { runtimeTransport } from "../transport/mod.ts";
import { pair } from "../transport/test_support.ts";
import { acceptProxyHeader } from "./accept.ts";
import { buildRealIpTrust, type RealIpTrust } from "./trust.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const HEADER = "PROXY TCP4 203.0.113.7 192.0.2.1 40000 143\r\n";

/** Sends the header plus a command, runs acceptProxyHeader on the accepted side. */
async function accept(trust: RealIpTrust | undefined) {
  const [client, server, stop] = await pair(await runtimeTransport());
  try {
    await client.write(enc(`${HEADER}a1 NOOP\r\n`));
    const result = await acceptProxyHeader(server, trust);
    const rest = new TextDecoder().decode((await server.read())!);
    return { result, remote: server.remoteAddr, rest };
  } finally {
    client.close();
    server.close();
    stop();
  }
}

const INFO = { srcAddr: "203.0.113.7", srcPort: 40000, dstAddr: "192.0.2.1", dstPort: 143 };

Deno.test("acceptProxyHeader: a trusted peer's header replaces the client address", async () => {
  const { result, remote, rest } = await accept(await buildRealIpTrust(["127.0.0.0/8"]));
  assert.deepEqual(result, {
    ok: true,
    info: INFO,
    peer: { transport: "tcp", hostname: "127.0.0.1", port: (result as { peer: { port: number } }).peer.port },
    realIp: true,
  });
  assert.deepEqual(remote, { transport: "tcp", hostname: "203.0.113.7", port: 40000 });
  assert.equal(rest, "a1 NOOP\r\n", "the bytes after the header stay for the protocol");
});

for (
  const [what, trust] of [
    ["without set_real_ip_from", undefined],
    ["from a peer outside set_real_ip_from", await buildRealIpTrust(["192.0.2.0/24"])],
  ] as const
) {
  Deno.test(`acceptProxyHeader ${what}: consumed, addresses kept for auth_http, client unchanged (nginx)`, async () => {
    const { result, remote, rest } = await accept(trust);
    assert.equal(result.ok, true);
    assert.deepEqual(result.ok && result.info, INFO);
    assert.equal(result.ok && result.realIp, false);
    assert.equal(remote.transport === "tcp" && remote.hostname, "127.0.0.1");
    assert.equal(rest, "a1 NOOP\r\n");
  });
}
