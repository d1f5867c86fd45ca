/**
 * Bun's native-socket transport. Runs under `bun test` (tests/bun_unit_test.ts); under
 * Deno the tests show as ignored.
 */

import assert from "node:assert/strict";
import { bunTransport } from "./bun.ts";
import type { Conn } from "./types.ts";
import { pair as pairOver, pattern, readAll } from "./test_support.ts";

const isBun = "Bun" in globalThis;

function bunTest(name: string, fn: () => Promise<void>): void {
  if (isBun) Deno.test(`bun native transport: ${name}`, fn);
  else {Deno.test({
      name: `bun native transport: ${name} (Bun only: tests/bun_unit_test.ts)`,
      ignore: true,
      fn,
    });}
}

const pair = (): Promise<[Conn, Conn, () => void]> => pairOver(bunTransport);

function rssMB(): number {
  return (globalThis as unknown as { process: { memoryUsage(): { rss: number } } }).process.memoryUsage()
    .rss /
    1e6;
}

bunTest("plain listeners and connects are native; upgradable ones stay node:net", async () => {
  const [a, b, close] = await pair();
  assert.equal(a.constructor.name, "BunConn");
  assert.equal(b.constructor.name, "BunConn");
  assert.equal(a.startTls, undefined);
  assert.equal(a.freshReads, true);
  assert.equal(a.remoteAddr.transport, "tcp");
  assert.equal((a.remoteAddr as { port: number }).port, (b.localAddr as { port: number }).port);
  assert.equal((b.remoteAddr as { hostname: string }).hostname, "127.0.0.1");
  a.close();
  b.close();
  close();
  const up = await bunTransport.listen({
    transport: "tcp",
    hostname: "127.0.0.1",
    port: 0,
    upgradable: true,
  });
  const port = (up.addr as { port: number }).port;
  const [c, d] = await Promise.all([
    bunTransport.connect("127.0.0.1", port, undefined, { upgradable: true }),
    up.accept(),
  ]);
  assert.equal(c.constructor.name, "NodeConn");
  assert.equal(d!.constructor.name, "NodeConn");
  c.close();
  d!.close();
  up.close();
});

bunTest("bytes are exact both ways; half-close lets the other side still answer", async () => {
  const [a, b, close] = await pair();
  const up = pattern(3_000_000, 1);
  const down = pattern(5_000_000, 2);
  const bWork = (async () => {
    const got = await readAll(b);
    // a closed its write side: b can still write, and a still reads.
    await b.write(down);
    b.close();
    return got;
  })();
  await a.write(up);
  await a.closeWrite();
  const gotDown = await readAll(a);
  assert.deepEqual(await bWork, up);
  assert.deepEqual(gotDown, down);
  a.close();
  close();
});

bunTest("unread() puts bytes in front; chunks read are not reused", async () => {
  const [a, b, close] = await pair();
  await a.write(new TextEncoder().encode("hello"));
  const first = await b.read();
  assert.equal(new TextDecoder().decode(first!), "hello");
  b.unread(first!.subarray(2));
  await a.write(new TextEncoder().encode(" world"));
  let text = "";
  while (text.length < 9) text += new TextDecoder().decode((await b.read())!);
  assert.equal(text, "llo world");
  assert.equal(new TextDecoder().decode(first!), "hello", "an earlier chunk is left alone");
  a.close();
  assert.equal(await b.read(), null, "EOF after the peer closed");
  b.close();
  close();
});

bunTest("write to a closed connection rejects; close is idempotent", async () => {
  const [a, b, close] = await pair();
  a.close();
  a.close();
  await assert.rejects(a.write(new Uint8Array(10)));
  assert.equal(await b.read(), null);
  b.close();
  close();
});

// The relay over native sockets: lib/relay/relay_test.ts runs its cases on this transport under Bun.

bunTest("back-pressure: a reader that does not read stops the socket (no unbounded queue)", async () => {
  const [a, b, close] = await pair();
  const block = new Uint8Array(1 << 20);
  const before = rssMB();
  // Write up to 200 MB while b reads nothing: writes must stall once the kernel buffers
  // and the small read queue are full.
  let written = 0;
  const writer = (async () => {
    while (written < 200 << 20) {
      await a.write(block);
      written += block.length;
    }
  })();
  writer.catch(() => {});
  await new Promise((r) => setTimeout(r, 1000));
  assert.ok(written < 64 << 20, `${written >> 20} MiB accepted without a reader`);
  assert.ok(rssMB() - before < 100, `RSS grew by ${(rssMB() - before).toFixed(0)} MB`);
  // Reading drains it all.
  let got = 0;
  while (got < 200 << 20) {
    const c = await b.read();
    assert.ok(c !== null);
    got += c.length;
  }
  await writer;
  a.close();
  b.close();
  close();
});
