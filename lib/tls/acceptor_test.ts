import assert from "node:assert/strict";
import * as net from "node:net";
import { testServerConfig } from "../../tests/helpers/server_config.ts";
import { removeTestPki, testPki } from "../../tests/lab/certs.ts";
import { nodeNetTransport } from "../transport/node_net.ts";
import { TlsAcceptor } from "./acceptor.ts";
import { loadTlsMaterial } from "./material.ts";

Deno.test("a client closing before its ClientHello ends the handshake at once (TCP health checks)", async () => {
  const pki = await testPki();
  const server = testServerConfig({
    starttls: "on",
    ssl_certificate: [pki.serverEc.cert],
    ssl_certificate_key: [pki.serverEc.key],
  });
  const acceptor = new TlsAcceptor(server, await loadTlsMaterial(server));
  const listener = await nodeNetTransport.listen({ transport: "tcp", hostname: "127.0.0.1", port: 0 });
  try {
    const port = (listener.addr as { port: number }).port;
    for (const delayMs of [0, 50]) {
      const client = net.connect(port, "127.0.0.1", () => setTimeout(() => client.destroy(), delayMs));
      client.on("error", () => {});
      const conn = (await listener.accept())!;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const outcome = await Promise.race([
        conn.startTls!(acceptor.handshake).then(() => "secure", (err: Error) => `rejected: ${err.message}`),
        new Promise<string>((resolve) => timer = setTimeout(() => resolve("still waiting after 3 s"), 3000)),
      ]);
      clearTimeout(timer);
      conn.close();
      assert.match(outcome, /^rejected: /);
    }
  } finally {
    listener.close();
    await removeTestPki();
  }
});
