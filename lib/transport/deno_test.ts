import assert from "node:assert/strict";
import { relay } from "../relay/relay.ts";
import { type DenoConn, denoTransport } from "./deno.ts";
import { relaySizing } from "./read_buffer.ts";
import { readExactly } from "./test_support.ts";

/** A connected pair (a, b) over loopback: `a` connected with `sizing`, `b` accepted. */
async function pair(sizing = relaySizing(4096)): Promise<[DenoConn, DenoConn, () => void]> {
  const listener = await denoTransport.listen({ transport: "tcp", hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as { port: number }).port;
  const [a, b] = await Promise.all([denoTransport.connect("127.0.0.1", port, sizing), listener.accept()]);
  return [a as DenoConn, b as DenoConn, () => listener.close()];
}

/** Records the read buffer size each read of `conn` used. */
function recordSizes(conn: DenoConn): number[] {
  const sizes: number[] = [];
  const read = conn.read.bind(conn);
  conn.read = () => {
    sizes.push(conn.readBufferSize);
    return read();
  };
  return sizes;
}

const quiet = () => new Promise((r) => setTimeout(r, 50));

// Deno.listen does not exist under `bun test` (tests/bun_unit_test.ts).
if (!("Bun" in globalThis)) {
  Deno.test("DenoConn: reads grow past proxy_buffer = 4k under bulk and are back at 1 KiB once quiet", async () => {
    const [reader, writer, close] = await pair();
    const sizes = recordSizes(reader);
    assert.equal(reader.readBufferSize, 1024, "a fresh connection reads 1 KiB");
    await Promise.all([writer.write(new Uint8Array(2_000_000)), readExactly(reader, 2_000_000)]);
    assert.equal(Math.max(...sizes), 65536, "the bulk transfer was read 64 KiB at a time");
    assert.ok(sizes.filter((s) => s === 65536).length > 10, `sizes: ${sizes.join(" ")}`);
    // The stream goes quiet; the next exchange is a short reply.
    await quiet();
    await Promise.all([writer.write(new Uint8Array(300)), readExactly(reader, 300)]);
    assert.equal(reader.readBufferSize, 1024, "the pending read of an idle session pins 1 KiB");
    // A new burst grows again.
    sizes.length = 0;
    await Promise.all([writer.write(new Uint8Array(1_000_000)), readExactly(reader, 1_000_000)]);
    assert.equal(Math.max(...sizes), 65536);
    reader.close();
    writer.close();
    close();
  });

  Deno.test("relay (deno): the backend reader grows for a FETCH-sized reply and is small once the session idles", async () => {
    const [user, clientSide, closeL1] = await pair();
    const [backendSide, mailbox, closeL2] = await pair();
    const sizes = recordSizes(backendSide);
    const done = relay(clientSide, backendSide, { proxyTimeout: 10_000 });
    await Promise.all([mailbox.write(new Uint8Array(3_000_000)), readExactly(user, 3_000_000)]);
    assert.equal(Math.max(...sizes), 65536);
    await quiet();
    await Promise.all([mailbox.write(new TextEncoder().encode("* 4 EXISTS\r\n")), readExactly(user, 12)]);
    await quiet();
    assert.equal(backendSide.readBufferSize, 1024, "the relay's pending backend read pins 1 KiB");
    assert.equal(clientSide.readBufferSize, 1024);
    user.close();
    mailbox.close();
    const result = await done;
    assert.equal(result.downstreamBytes, 3_000_012);
    closeL1();
    closeL2();
  });
}
