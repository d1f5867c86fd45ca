import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import type { UpstreamConfig } from "../config/types.ts";
import { MailproxyMetrics } from "../metrics/mailproxy_metrics.ts";
import { runtimeTransport } from "../transport/mod.ts";
import { HealthChecker } from "./health.ts";
import { MemoryRouteStore } from "./memory_store.ts";
import { UpstreamRouter } from "./router.ts";

const transport = await runtimeTransport();

/**
 * A loopback server that answers each connection with `greet` (or stays silent); with
 * `afterHeader`, only once the client sent something (as a backend expecting PROXY headers).
 */
async function server(
  greet: string | null,
  afterHeader = false,
): Promise<{ port: number; received: string[]; close(): void }> {
  const received: string[] = [];
  const sockets = new Set<Socket>();
  const s: Server = createServer((sock) => {
    sockets.add(sock);
    sock.on("data", (d) => {
      received.push(d.toString("latin1"));
      if (afterHeader && greet !== null && received.length === 1) sock.write(greet);
    });
    sock.on("error", () => {});
    if (greet !== null && !afterHeader) sock.write(greet);
  });
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  return {
    port,
    received,
    close: () => {
      for (const sock of sockets) sock.destroy();
      s.close();
    },
  };
}

function pool(ports: number[], extra: Partial<UpstreamConfig> = {}): UpstreamConfig {
  return {
    name: "p",
    protocol: "imap",
    hash: "user",
    sticky: 0,
    max_reconnects: 1,
    health_check: { interval: 1000, timeout: 300, fails: 1, passes: 1 },
    backend_tls: null,
    proxy_protocol: null,
    servers: ports.map((port) => ({
      address: `127.0.0.1:${port}`,
      host: "127.0.0.1",
      port,
      weight: 1,
      backup: false,
      state: "up",
    })),
    ...extra,
  };
}

function checker(u: UpstreamConfig) {
  const router = new UpstreamRouter([u], {
    store: new MemoryRouteStore(),
    metrics: new MailproxyMetrics(),
    kick: () => true,
  });
  return new HealthChecker(router, transport, () => ({ proxyProtocol: "off", backendTls: "off" }));
}

Deno.test("health check: a greeting passes; a wrong one, silence and a closed port fail", async () => {
  const good = await server("* OK ready\r\n");
  const bye = await server("* BYE busy\r\n");
  const silent = await server(null);
  const closed = await server(null);
  closed.close();
  try {
    const u = pool([good.port, bye.port, silent.port, closed.port]);
    const h = checker(u);
    const results = await Promise.all(u.servers.map((s) => h.check(u, s)));
    assert.deepEqual(results, [true, false, false, false]);
  } finally {
    good.close();
    bye.close();
    silent.close();
  }
});

Deno.test("health check: PROXY LOCAL/UNKNOWN header first when the pool sends PROXY headers", async () => {
  const v2 = await server("* OK ready\r\n", true);
  const v1 = await server("* OK ready\r\n", true);
  try {
    const u2 = pool([v2.port], { proxy_protocol: "v2" });
    assert.equal(await checker(u2).check(u2, u2.servers[0]), true);
    assert.ok(v2.received.join("").startsWith("\r\n\r\n\u0000\r\nQUIT\n\u0020"), JSON.stringify(v2.received));
    const u1 = pool([v1.port], { proxy_protocol: "v1" });
    assert.equal(await checker(u1).check(u1, u1.servers[0]), true);
    assert.equal(v1.received.join(""), "PROXY UNKNOWN\r\n");
  } finally {
    v2.close();
    v1.close();
  }
});
