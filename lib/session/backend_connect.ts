/**
 * The `backend-connect` phase for one candidate: the TCP connect, then the preamble
 * (PROXY header as one write, spec §5.1, the candidate's version if it has one; TLS for `backend_tls = "on"`; the protocol's
 * STARTTLS and IMAP ID from its record). Failures come back classified
 * (backend_target.ts); only I/O errors nobody classifies (a write to a dead backend)
 * throw.
 * @module
 */

import { proxyV1, proxyV2 } from "../proxy_protocol/mod.ts";
import { addressIp, addressPort } from "../transport/mod.ts";
import type { Conn } from "../transport/mod.ts";
import { relaySizing } from "../transport/mod.ts";
import type { BackendCandidate, BackendFailure } from "./backend_target.ts";
import { errorText, MIN_READ } from "./context.ts";
import type { SessionScope } from "./scope.ts";

/** A connected backend, ready for the login dialogue. */
export interface BackendConnected {
  conn: Conn;
  /** The backend's greeting when the preamble read it (the login machine gets it replayed), else null. */
  greeting: Uint8Array | null;
}

/** The backend is not there, or TLS cannot be had towards it. */
class NoBackendTls extends Error {}

/**
 * Connects to `target` and runs the preamble. The caller armed the session deadline,
 * whose expiry closes {@link SessionScope.backend} and calls `cancel` (set here while
 * the connect is pending).
 */
export async function connectBackend(
  s: SessionScope,
  target: BackendCandidate,
  cancel: { connect?: (err: Error) => void },
): Promise<BackendConnected | BackendFailure> {
  const { deps, server } = s;
  const started = performance.now();
  try {
    s.backend = await new Promise<Conn>((resolve, reject) => {
      cancel.connect = reject;
      deps.transport.connect(target.host, target.port, relaySizing(server.proxy_buffer, MIN_READ), {
        upgradable: target.tls !== "off",
      }).then(
        (conn) => s.deadline.expired ? (conn.close(), reject(new Error("timed out"))) : resolve(conn),
        reject,
      );
    });
  } catch (err) {
    const why = s.deadline.expired ? "timed out" : errorText(err);
    return failure(s, "transport", "connect", why);
  } finally {
    cancel.connect = undefined;
  }
  deps.metrics.backendConnectDuration.observe({ backend: target.name }, (performance.now() - started) / 1000);
  const conn = s.backend;
  conn.setNoDelay(true);

  const proxyProtocol = target.proxyProtocol ?? server.proxy_protocol;
  if (proxyProtocol !== "off") {
    const { client } = s;
    const endpoints = {
      srcAddr: client.remoteAddr.transport === "tcp" ? client.remoteAddr.hostname : null,
      srcPort: addressPort(client.remoteAddr),
      dstAddr: client.localAddr.transport === "tcp" ? client.localAddr.hostname : null,
      dstPort: addressPort(client.localAddr),
    };
    await conn.write(
      proxyProtocol === "v1" ? proxyV1(endpoints) : proxyV2(endpoints, s.facts.tls?.proxy),
    );
  }
  if (target.tls === "on") {
    try {
      await handshake(s, conn, target);
    } catch (err) {
      return tlsFailure(s, "TLS handshake", err);
    }
  }

  const preamble = s.protocol.backendPreamble({
    starttls: target.tls === "starttls",
    proxyBuffer: server.proxy_buffer,
    ehloName: server.server_name,
    imapId: server.imap_id
      ? {
        clientIp: addressIp(s.client.remoteAddr),
        clientPort: addressPort(s.client.remoteAddr),
        localIp: addressIp(s.client.localAddr),
        localPort: addressPort(s.client.localAddr),
        sessionId: s.entry.info.id,
      }
      : null,
  });
  if (preamble === null) return { conn, greeting: null };
  while (true) {
    const data = await conn.read();
    if (data === null) return failure(s, "transport", "login", "upstream closed connection");
    let step = preamble.receive(data);
    while (step !== null) {
      switch (step.kind) {
        case "send":
          await conn.write(step.data);
          step = null;
          break;
        case "starttls":
          try {
            await handshake(s, conn, target);
          } catch (err) {
            return tlsFailure(s, "STARTTLS handshake", err);
          }
          step = preamble.tlsDone();
          break;
        case "fail":
          return failure(s, "transport", "login", step.log);
        case "done":
          return { conn, greeting: step.greeting };
      }
    }
  }
}

/** The TLS handshake towards `target` (backend_tls = "on", or after STARTTLS). */
function handshake(s: SessionScope, conn: Conn, target: BackendCandidate): Promise<void> {
  const tls = s.deps.tls;
  if (!tls || !conn.startTls) throw new NoBackendTls("backend TLS is not available");
  return conn.startTls(tls.backend.handshake(target.host));
}

function tlsFailure(s: SessionScope, what: string, err: unknown): BackendFailure {
  const kind = err instanceof NoBackendTls ? "internal" : "transport";
  return failure(s, kind, "tls", `${what} failed: ${errorText(err)}`);
}

/** A failure whose client line is the protocol's internal error (built only when needed). */
function failure(
  s: SessionScope,
  kind: BackendFailure["kind"],
  stage: BackendFailure["stage"],
  why: string,
): BackendFailure {
  return { kind, stage, why, toClient: new TextEncoder().encode(s.protocol.lines.internalError) };
}
