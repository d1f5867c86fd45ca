import assert from "node:assert/strict";
import { denoTransport } from "../transport/deno.ts";
import { nodeNetTransport } from "../transport/node_net.ts";
import type { Transport } from "../transport/types.ts";
import { pair, pattern, readAll } from "../transport/test_support.ts";
import { relay } from "./relay.ts";

// Under `bun test` (tests/bun_unit_test.ts): Bun's native sockets and node:net.
const transports: [string, Transport][] = "Bun" in globalThis
  ? [["bun", (await import("../transport/bun.ts")).bunTransport], ["node:net", nodeNetTransport]]
  : [["deno", denoTransport], ["node:net", nodeNetTransport]];

for (const [name, t] of transports) {
  Deno.test(`relay (${name}): bytes are exact both ways, client half-close passes on`, async () => {
    const [user, clientSide, closeL1] = await pair(t);
    const [backendSide, mailbox, closeL2] = await pair(t);
    const up = pattern(3_000_000, 1);
    const down = pattern(5_000_000, 2);
    const done = relay(clientSide, backendSide, { proxyTimeout: 10_000 });
    // The mailbox reads everything the user sends, then answers and closes.
    const mailboxWork = (async () => {
      const got = await readAll(mailbox);
      await mailbox.write(down);
      mailbox.close();
      return got;
    })();
    const userWork = (async () => {
      await user.write(up);
      await user.closeWrite();
      return await readAll(user);
    })();
    const [gotUp, gotDown, result] = await Promise.all([mailboxWork, userWork, done]);
    assert.deepEqual(gotUp, up);
    assert.deepEqual(gotDown, down);
    assert.equal(result.end, "closed");
    assert.equal(result.upstreamBytes, up.length);
    assert.equal(result.downstreamBytes, down.length);
    user.close();
    closeL1();
    closeL2();
  });

  Deno.test(`relay (${name}): byte reports are batched and add up to the totals`, async () => {
    const [user, clientSide, closeL1] = await pair(t);
    const [backendSide, mailbox, closeL2] = await pair(t);
    const down = pattern(4_000_000, 3);
    const reports: number[] = [];
    const done = relay(clientSide, backendSide, {
      proxyTimeout: 10_000,
      onDownstream: (n) => reports.push(n),
    });
    const mailboxWork = (async () => {
      await mailbox.write(down);
      mailbox.close();
    })();
    const got = await readAll(user);
    const [, result] = await Promise.all([mailboxWork, done]);
    assert.equal(got.length, down.length);
    assert.equal(result.downstreamBytes, down.length);
    assert.equal(reports.reduce((a, b) => a + b, 0), down.length, "every byte is reported by the end");
    // Far fewer reports than chunks: one per REPORT_INTERVAL_MS plus the final flush.
    assert.ok(reports.length < 100, `${reports.length} reports`);
    user.close();
    closeL1();
    closeL2();
  });

  Deno.test(`relay (${name}): idle client past proxy_timeout ends the session`, async () => {
    const [user, clientSide, closeL1] = await pair(t);
    const [backendSide, mailbox, closeL2] = await pair(t);
    const started = Date.now();
    const result = await relay(clientSide, backendSide, { proxyTimeout: 200 });
    assert.equal(result.end, "timeout");
    assert.ok(Date.now() - started >= 190);
    assert.equal(await user.read(), null, "client connection is closed");
    assert.equal(await mailbox.read(), null, "backend connection is closed");
    user.close();
    mailbox.close();
    closeL1();
    closeL2();
  });

  Deno.test(`relay (${name}): abort closes both sides`, async () => {
    const [user, clientSide, closeL1] = await pair(t);
    const [backendSide, mailbox, closeL2] = await pair(t);
    const ac = new AbortController();
    const done = relay(clientSide, backendSide, { proxyTimeout: 10_000, signal: ac.signal });
    await user.write(new TextEncoder().encode("a1 NOOP\r\n"));
    const first = await mailbox.read();
    assert.equal(new TextDecoder().decode(first!), "a1 NOOP\r\n");
    ac.abort("kicked");
    const result = await done;
    assert.equal(result.end, "aborted");
    assert.equal(await user.read(), null);
    user.close();
    mailbox.close();
    closeL1();
    closeL2();
  });
}
