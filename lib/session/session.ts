/**
 * The session driver: runs one client connection through the phases of spec §2
 * (greeting, pre-auth commands, auth, backend login, relay), doing the I/O,
 * timers and auth calls that the sans-I/O protocol machines ask for.
 * @module
 */

import { admitClient } from "../access/admission.ts";
import { refusalText, refuseClient } from "../access/refuse.ts";
import type { ListenSpec, ServerConfig } from "../config/types.ts";
import { getLogger } from "../log/mod.ts";
import { clientBufferSize, createFrontend } from "../protocols/mod.ts";
import { addressIp, formatAddress } from "../transport/address.ts";
import type { Conn } from "../transport/types.ts";
import { relaySizing } from "../transport/read_buffer.ts";
import { sayGoodbye } from "./goodbye.ts";
import { newSessionId } from "./registry.ts";
import { type ClientFacts, MIN_READ, type SessionDeps, SessionEnd } from "./context.ts";
import { beforeGreeting, readProxyHeader, tlsUpgrade } from "./client_setup.ts";
import { preAuth } from "./pre_auth.ts";
import { proxy } from "./backend.ts";

export type { SessionDeps } from "./context.ts";

/** Runs one client session to its end. Never throws. */
export async function runSession(
  client: Conn,
  server: ServerConfig,
  listen: ListenSpec,
  deps: SessionDeps,
): Promise<void> {
  const id = newSessionId();
  const log = getLogger(["mailproxy", "session"]).with({ session: id });
  const protocol = server.protocol;
  const labels = { server: String(server.index), protocol };
  const clientText = formatAddress(client.remoteAddr);
  deps.metrics.connectionsAccepted.inc(labels);
  deps.metrics.connectionsActive.add(labels, 1);
  const entry = deps.registry.add({
    id,
    protocol,
    server: server.index,
    client: clientText,
    listen: listen.raw,
    state: "pre-auth",
    startedAt: Date.now(),
    bytesUp: 0,
    bytesDown: 0,
  });
  // Kick or shutdown before the relay: the protocol's goodbye, then close (goodbye.ts).
  const onAbort = () => (entry.farewell = sayGoodbye(client, protocol, entry.abort.signal.reason));
  entry.abort.signal.addEventListener("abort", onAbort);
  log.info("client {client} connected to {listen}", { client: clientText, listen: listen.raw });

  let outcome = "closed";
  let release: (() => void) | undefined;
  const facts: ClientFacts = {};
  try {
    // The PROXY header first (spec §2 step 2): realip replaces client.remoteAddr.
    if (listen.proxy_protocol) {
      const end = await beforeGreeting(client, server, log, "PROXY protocol header", async () => {
        if (!(await readProxyHeader(client, entry, deps, log, facts))) return "proxy-protocol";
        return null;
      });
      if (end !== null) {
        outcome = end;
        return;
      }
    }
    // Access rules and connection limits, on the final client address: whatever
    // replaces the address (PROXY protocol, set_real_ip_from) must run before this.
    const admission = admitClient(server.access, client.remoteAddr, deps.limits);
    if (!admission.ok) {
      outcome = "refused";
      deps.metrics.connectionsRefused.inc({ ...labels, reason: admission.reason });
      log.info("client {client} refused: {why}", {
        client: formatAddress(client.remoteAddr),
        why: refusalText(admission.reason, admission.rule),
      });
      // A cleartext line means nothing to a client expecting a TLS handshake: just close.
      if (listen.ssl) client.close();
      else await refuseClient(client, protocol, admission.reason);
      return;
    }
    release = admission.release;
    // Implicit TLS (spec §2 step 3), after admission so refused clients cost no handshake.
    if (listen.ssl) {
      const end = await beforeGreeting(client, server, log, "TLS handshake", async () => {
        return (await tlsUpgrade(client, server, deps, log, facts)) ? null : "tls";
      });
      if (end !== null) {
        outcome = end;
        return;
      }
    }
    client.setNoDelay(true);
    // Idle reads of MIN_READ, growing past the client buffer under bulk (an APPEND).
    client.setReadSizing(relaySizing(clientBufferSize(server), MIN_READ));
    const frontend = createFrontend(server, { secure: listen.ssl, clientIp: addressIp(client.remoteAddr) });
    const logged = await preAuth(client, frontend, server, entry, deps, log, facts);
    if (logged) {
      entry.abort.signal.removeEventListener("abort", onAbort);
      outcome = await proxy(client, frontend, server, entry, deps, log, logged, facts);
    } else outcome = "pre-auth";
  } catch (err) {
    if (err instanceof SessionEnd) {
      log.info("{reason}", { reason: err.reason });
      outcome = err.outcome;
    } else {
      log.error("session failed: {error}", { error: err instanceof Error ? err.message : String(err) });
      outcome = "error";
    }
  } finally {
    release?.();
    await entry.farewell;
    client.close();
    entry.abort.signal.removeEventListener("abort", onAbort);
    deps.registry.remove(id);
    deps.metrics.connectionsActive.add(labels, -1);
    deps.metrics.sessionsDone.inc({ protocol, end: outcome });
  }
}
