import assert from "node:assert/strict";
import { runtimeTransport } from "./mod.ts";
import { nodeNetTransport } from "./node_net.ts";
import { pair } from "./test_support.ts";
import type { Transport } from "./types.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

// The runtime's own transport (Deno.Conn or Bun native sockets) and node:net (TLS-capable listeners).
const transport = await runtimeTransport();
const transports: [string, Transport][] = [[transport.runtime, transport], ["node:net", nodeNetTransport]];

for (const [name, t] of transports) {
  Deno.test(`closeGracefully (${name}): the last line, then EOF while the peer may still talk; closes on its EOF`, async () => {
    const [client, server, stop] = await pair(t);
    try {
      await server.write(enc("a1 NO [AUTHENTICATIONFAILED] Authentication failed\r\n"));
      const closing = server.closeGracefully({ timeoutMs: 30_000, maxBytes: 65536 });
      let got = "";
      while (true) {
        const chunk = await client.read();
        if (chunk === null) break;
        got += dec(chunk);
      }
      assert.equal(got, "a1 NO [AUTHENTICATIONFAILED] Authentication failed\r\n", "the line, then our FIN");
      // The polite LOGOUT after our half-close is read (and discarded), not answered by a reset.
      await client.write(enc("a2 LOGOUT\r\n"));
      await client.closeWrite();
      await closing;
    } finally {
      client.close();
      stop();
    }
  });

  Deno.test(`closeGracefully (${name}): a peer that never closes is closed after the time bound`, async () => {
    const [client, server, stop] = await pair(t);
    try {
      await server.closeGracefully({ timeoutMs: 50, maxBytes: 65536 });
      assert.equal(await server.read(), null, "closed");
    } finally {
      client.close();
      stop();
    }
  });

  Deno.test(`closeGracefully (${name}): a peer that keeps sending is closed after the byte bound`, async () => {
    const [client, server, stop] = await pair(t);
    let sending = true;
    const flood = (async () => {
      try {
        while (sending) await client.write(new Uint8Array(16384));
      } catch {
        // Closed by the other side: the flood ends.
      }
    })();
    try {
      await server.closeGracefully({ timeoutMs: 60_000, maxBytes: 100_000 });
      assert.equal(await server.read(), null, "closed");
    } finally {
      sending = false;
      client.close();
      await flood;
      stop();
    }
  });

  Deno.test(`closeGracefully (${name}): on a connection already closed it returns at once`, async () => {
    const [client, server, stop] = await pair(t);
    try {
      server.close();
      await server.closeGracefully({ timeoutMs: 60_000, maxBytes: 65536 });
    } finally {
      client.close();
      stop();
    }
  });
}
