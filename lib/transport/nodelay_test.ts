import assert from "node:assert/strict";
import { bunTransport } from "./bun.ts";
import { denoTransport } from "./deno.ts";
import { nodeNetTransport } from "./node_net.ts";
import type { Transport } from "./types.ts";
import { readExactly } from "./test_support.ts";

// Under `bun test` (tests/bun_unit_test.ts) only Bun's transport exists.
const transports: [string, Transport][] = "Bun" in globalThis
  ? [["node:net", nodeNetTransport], ["bun", bunTransport]]
  : [["deno", denoTransport], ["node:net", nodeNetTransport]];

for (const [name, t] of transports) {
  Deno.test(`${name}: TCP_NODELAY is on for connected and accepted sockets without asking`, async () => {
    const listener = await t.listen({ transport: "tcp", hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as { port: number }).port;
    const [a, b] = await Promise.all([t.connect("127.0.0.1", port), listener.accept()]);
    // With Nagle, the second of two small writes waits for the ACK of the first, which the
    // peer delays (40 ms on Linux) while it has nothing to send: ~0.8 s for these 20 rounds.
    const started = performance.now();
    for (let i = 0; i < 20; i++) {
      await a.write(new Uint8Array(10));
      await a.write(new Uint8Array(10));
      await readExactly(b!, 20);
      await b!.write(new Uint8Array(10));
      await b!.write(new Uint8Array(10));
      await readExactly(a, 20);
    }
    const ms = performance.now() - started;
    assert.ok(ms < 400, `20 small round trips took ${ms.toFixed(0)} ms (Nagle?)`);
    a.close();
    b!.close();
    listener.close();
  });
}
