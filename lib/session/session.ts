/**
 * The session driver: runs one client connection through the phases of spec §2
 * (accept, greeting, pre-auth commands, auth, backend connect and login, relay; see
 * scope.ts), doing the I/O, timers and auth calls that the sans-I/O protocol
 * machines ask for.
 * @module
 */

import { admitClient } from "../access/mod.ts";
import { refusalText } from "../access/mod.ts";
import type { ListenSpec, ServerConfig } from "../config/mod.ts";
import { getLogger } from "../log/mod.ts";
import { protocolRecord } from "../protocols/mod.ts";
import { addressIp, formatAddress } from "../transport/mod.ts";
import type { Conn } from "../transport/mod.ts";
import { relaySizing } from "../transport/mod.ts";
import { sendLastLine } from "./last_line.ts";
import type { SessionEntry } from "./registry.ts";
import { type Logger, MIN_READ, type SessionDeps, SessionEnd } from "./context.ts";
import { beforeGreeting, readProxyHeader, tlsUpgrade } from "./accept.ts";
import { preAuth } from "./pre_auth.ts";
import { proxy, type Relaying } from "./backend.ts";
import { SessionScope } from "./scope.ts";

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
  const id = deps.registry.newId();
  const log = getLogger(["mailproxy", "session", String(server.index)]).with({ session: id });
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
 * before the relay, or with the running relay (its outcome to come). The session object
 * lives in this frame only: it is garbage once the relay runs.
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
  const s = new SessionScope(client, server, entry, deps, log, protocolRecord(server.protocol));
  try {
    // The PROXY header first (spec §2 step 2): realip replaces client.remoteAddr.
    if (listen.proxy_protocol) {
      const end = await beforeGreeting(s, "PROXY protocol header", async () => {
        return (await readProxyHeader(s)) ? null : "proxy-protocol";
      });
      if (end !== null) return end;
    }
    // Access rules and connection limits, on the final client address: whatever
    // replaces the address (PROXY protocol, set_real_ip_from) must run before this.
    const admitted = admitClient(server.access, client.remoteAddr, deps.limits);
    if (!admitted.ok) {
      deps.metrics.connectionsRefused.inc({
        server: String(server.index),
        protocol: server.protocol,
        reason: admitted.reason,
      });
      log.info("client {client} refused: {why}", {
        client: formatAddress(client.remoteAddr),
        why: refusalText(admitted.reason, admitted.rule),
      });
      // A cleartext line means nothing to a client expecting a TLS handshake: just close.
      if (listen.ssl) client.close();
      else {
        const { accessDenied, busy } = s.protocol.lines;
        await sendLastLine(client, admitted.reason === "access" ? accessDenied : busy);
      }
      return "refused";
    }
    admission.release = admitted.release;
    // Implicit TLS (spec §2 step 3), after admission so refused clients cost no handshake.
    if (listen.ssl) {
      const end = await beforeGreeting(s, "TLS handshake", async () => {
        return (await tlsUpgrade(s)) ? null : "tls";
      });
      if (end !== null) return end;
    }
    client.setNoDelay(true);
    // Idle reads of MIN_READ, growing past the client buffer under bulk (an APPEND).
    client.setReadSizing(relaySizing(s.protocol.clientBufferSize(server), MIN_READ));
    const frontend = s.protocol.createFrontend(server, {
      secure: listen.ssl,
      clientIp: addressIp(client.remoteAddr),
    });
    const logged = await preAuth(s, frontend);
    if (!logged) return "pre-auth";
    return await proxy(s, frontend, logged);
  } finally {
    if (s.phase !== "relay") s.close();
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
