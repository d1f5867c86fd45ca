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
import { newSessionId, type SessionEntry } from "./registry.ts";
import { type ClientFacts, type Logger, MIN_READ, type SessionDeps, SessionEnd } from "./context.ts";
import { beforeGreeting, readProxyHeader, tlsUpgrade } from "./client_setup.ts";
import { preAuth } from "./pre_auth.ts";
import { proxy, type Relaying } from "./backend.ts";

export type { SessionDeps } from "./context.ts";

/**
 * Runs one client session to its end. Never throws.
 *
 * Memory: an idle relayed session should hold little more than its two sockets. So this
 * frame keeps only what the end of the session needs, and {@link setUp} (which holds the
 * front end, its parser, the login machine and the credentials) returns as soon as the
 * relay has started: its frame and all of that become garbage while the relay runs.
 */
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
  log.info("client {client} connected to {listen}", { client: clientText, listen: listen.raw });

  let outcome = "closed";
  let ownLastLine = false;
  const admission: { release?: () => void } = {};
  try {
    const result = await setUp(client, server, listen, deps, entry, log, admission);
    ownLastLine = typeof result === "string";
    outcome = typeof result === "string" ? result : await result.relayed;
  } catch (err) {
    outcome = endOf(err, log);
  } finally {
    admission.release?.();
    await entry.farewell;
    // Ended before the relay, on a line of the proxy's own (failed login, LOGOUT/QUIT,
    // max_errors, refusal): half-close and drain, so a client's polite QUIT draws no RST.
    if (ownLastLine) await client.closeGracefully();
    client.close();
    deps.registry.remove(id);
    deps.metrics.connectionsActive.add(labels, -1);
    deps.metrics.sessionsDone.inc({ protocol, end: outcome });
  }
}

/**
 * Everything before the relay. Resolves with the session outcome when the session ended
 * before the relay, or with the running relay (its outcome to come).
 */
async function setUp(
  client: Conn,
  server: ServerConfig,
  listen: ListenSpec,
  deps: SessionDeps,
  entry: SessionEntry,
  log: Logger,
  admission: { release?: () => void },
): Promise<string | Relaying> {
  const protocol = server.protocol;
  // Kick or shutdown before the relay: the protocol's goodbye, then close (goodbye.ts).
  const onAbort = () => (entry.farewell = sayGoodbye(client, protocol, entry.abort.signal.reason));
  entry.abort.signal.addEventListener("abort", onAbort);
  const facts: ClientFacts = {};
  try {
    // The PROXY header first (spec §2 step 2): realip replaces client.remoteAddr.
    if (listen.proxy_protocol) {
      const end = await beforeGreeting(client, server, log, "PROXY protocol header", async () => {
        if (!(await readProxyHeader(client, entry, deps, log, facts))) return "proxy-protocol";
        return null;
      });
      if (end !== null) return end;
    }
    // Access rules and connection limits, on the final client address: whatever
    // replaces the address (PROXY protocol, set_real_ip_from) must run before this.
    const admitted = admitClient(server.access, client.remoteAddr, deps.limits);
    if (!admitted.ok) {
      deps.metrics.connectionsRefused.inc({
        server: String(server.index),
        protocol,
        reason: admitted.reason,
      });
      log.info("client {client} refused: {why}", {
        client: formatAddress(client.remoteAddr),
        why: refusalText(admitted.reason, admitted.rule),
      });
      // A cleartext line means nothing to a client expecting a TLS handshake: just close.
      if (listen.ssl) client.close();
      else await refuseClient(client, protocol, admitted.reason);
      return "refused";
    }
    admission.release = admitted.release;
    // Implicit TLS (spec §2 step 3), after admission so refused clients cost no handshake.
    if (listen.ssl) {
      const end = await beforeGreeting(client, server, log, "TLS handshake", async () => {
        return (await tlsUpgrade(client, server, deps, log, facts)) ? null : "tls";
      });
      if (end !== null) return end;
    }
    client.setNoDelay(true);
    // Idle reads of MIN_READ, growing past the client buffer under bulk (an APPEND).
    client.setReadSizing(relaySizing(clientBufferSize(server), MIN_READ));
    const frontend = createFrontend(server, { secure: listen.ssl, clientIp: addressIp(client.remoteAddr) });
    const logged = await preAuth(client, frontend, server, entry, deps, log, facts);
    if (!logged) return "pre-auth";
    entry.abort.signal.removeEventListener("abort", onAbort);
    return await proxy(client, frontend, server, entry, deps, log, logged, facts);
  } finally {
    entry.abort.signal.removeEventListener("abort", onAbort);
  }
}

/** The outcome of a session that ended by an error, logged. */
function endOf(err: unknown, log: Logger): string {
  if (err instanceof SessionEnd) {
    log.info("{reason}", { reason: err.reason });
    return err.outcome;
  }
  log.error("session failed: {error}", { error: err instanceof Error ? err.message : String(err) });
  return "error";
}
