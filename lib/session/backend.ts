/**
 * Backend connect, preamble (PROXY, TLS, STARTTLS, IMAP ID) and login, then the relay (spec §5).
 * @module
 */

import type { AuthOk } from "../auth/types.ts";
import type { ServerConfig } from "../config/types.ts";
import type { Frontend } from "../protocols/types.ts";
import { imapIdCommand } from "../protocols/imap/backend_id.ts";
import { proxyV1, proxyV2 } from "../proxy_protocol/mod.ts";
import { relay } from "../relay/relay.ts";
import { BackendPreamble, type BackendTlsMode } from "../tls/mod.ts";
import { addressIp, addressPort, formatHostPort } from "../transport/address.ts";
import type { Conn } from "../transport/types.ts";
import { relaySizing } from "../transport/read_buffer.ts";
import { binaryForDisplay } from "../util/bytes.ts";
import { sayGoodbye } from "./goodbye.ts";
import type { SessionEntry } from "./registry.ts";
import {
  type ClientFacts,
  EMPTY,
  errorText,
  type LoggedIn,
  type Logger,
  MIN_READ,
  type SessionDeps,
  SessionEnd,
} from "./context.ts";

/** A session whose relay runs: `relayed` resolves with the session outcome. */
export interface Relaying {
  relayed: Promise<string>;
}

/**
 * Backend connect and login, then starts the relay and returns (without waiting for it,
 * so that this frame and the login state it holds are freed during the relay).
 */
export async function proxy(
  client: Conn,
  frontend: Frontend,
  server: ServerConfig,
  entry: SessionEntry,
  deps: SessionDeps,
  log: Logger,
  { ok, credentials }: LoggedIn,
  facts: ClientFacts,
): Promise<Relaying> {
  const backendName = formatHostPort(ok.server, ok.port);
  const backendTls: BackendTlsMode = ok.backendTls ?? server.backend_tls;
  entry.info.backend = backendName;
  entry.info.state = "backend-login";
  if (ok.user !== undefined) entry.info.user = binaryForDisplay(ok.user);
  const started = performance.now();
  let backend: Conn | null = null;
  let timedOut = false;
  let onTimeout: (() => void) | undefined;
  /** The client got the login reply: from here on a failure is no internal error. */
  let answered = false;
  /** The relay owns both connections now. */
  let handedOff = false;
  // The backend login runs under the same `timeout` as the pre-auth phase (spec §5.1).
  // Only the backend side is ended here: the pending connect or read then fails and
  // the client still gets the internal-error line, as nginx sends it.
  const timer = setTimeout(() => {
    timedOut = true;
    backend?.close();
    onTimeout?.();
  }, server.timeout);
  const onAbort = () => {
    backend?.close();
    entry.farewell = sayGoodbye(client, server.protocol, entry.abort.signal.reason);
  };
  entry.abort.signal.addEventListener("abort", onAbort);
  const fail = async (stage: string, why: string, toClient: Uint8Array) => {
    // Ended by a kick or shutdown: the goodbye was sent; this is no backend failure.
    if (entry.abort.signal.aborted) {
      throw new SessionEnd(`session ended: ${entry.abort.signal.reason}`, "aborted");
    }
    deps.metrics.backendFailures.inc({ backend: backendName, stage });
    log.error("backend {backend} {stage} failed: {why}", { backend: backendName, stage, why });
    try {
      await client.write(toClient);
    } catch {
      // The client is gone; nothing more to tell it.
    }
    throw new SessionEnd(`session ended before relay (${stage})`, `backend-${stage}`);
  };
  try {
    try {
      backend = await new Promise<Conn>((resolve, reject) => {
        onTimeout = () => reject(new Error("timed out"));
        deps.transport.connect(ok.server, ok.port, relaySizing(server.proxy_buffer, MIN_READ), {
          upgradable: backendTls !== "off",
        }).then(
          (conn) => timedOut ? (conn.close(), reject(new Error("timed out"))) : resolve(conn),
          reject,
        );
      });
      onTimeout = undefined;
      deps.metrics.backendConnectDuration.observe(
        { backend: backendName },
        (performance.now() - started) / 1000,
      );
    } catch (err) {
      await fail("connect", timedOut ? "timed out" : errorText(err), frontend.internalError());
    }
    const upstream = backend!;
    upstream.setNoDelay(true);
    const greeting = await backendPreamble(
      client,
      upstream,
      server,
      ok,
      backendTls,
      entry,
      deps,
      facts,
      frontend.internalError(),
      fail,
    );
    const login = frontend.backendLogin(ok, credentials);
    let replay: Uint8Array | null = greeting;
    let done: Uint8Array | null = null;
    while (done === null) {
      let data: Uint8Array | null;
      try {
        data = replay ?? await upstream.read();
        replay = null;
      } catch (err) {
        data = null;
        if (!timedOut) await fail("login", `read error: ${errorText(err)}`, login.internalError());
      }
      if (data === null) {
        await fail(
          "login",
          timedOut ? "upstream timed out" : "upstream closed connection",
          login.internalError(),
        );
      }
      let step = login.receive(data!);
      while (step !== null) {
        if (step.kind === "send") {
          await upstream.write(step.data);
          step = login.receive(EMPTY);
        } else if (step.kind === "fail") {
          await fail("login", step.log, step.toClient);
        } else {
          done = step.toClient;
          break;
        }
      }
    }
    clearTimeout(timer);
    deps.metrics.backendLoginDuration.observe({ backend: backendName }, (performance.now() - started) / 1000);
    answered = true;
    await client.write(done);
    const pipelined = frontend.takePipelined();
    if (pipelined.length > 0) await upstream.write(pipelined);
    log.info("client logged in, upstream {backend}", { backend: backendName });
    entry.info.state = "relay";
    entry.abort.signal.removeEventListener("abort", onAbort);
    handedOff = true;
    return { relayed: startRelay(client, upstream, server, entry, deps, log) };
  } catch (err) {
    if (err instanceof SessionEnd) throw err;
    if (!answered) {
      // Failed before the login reply (e.g. a write to a timed-out backend): nginx's internal error.
      await client.write(frontend.internalError()).catch(() => {});
    }
    throw new SessionEnd(
      timedOut ? "upstream timed out" : `session ended during backend login: ${errorText(err)}`,
      "backend-login",
    );
  } finally {
    clearTimeout(timer);
    entry.abort.signal.removeEventListener("abort", onAbort);
    if (!handedOff) backend?.close();
  }
}

/**
 * Starts the relay; resolves with the session outcome when it ends. A function of its own
 * so that the relay's callbacks capture only these few values, not the login's state.
 */
function startRelay(
  client: Conn,
  upstream: Conn,
  server: ServerConfig,
  entry: SessionEntry,
  deps: SessionDeps,
  log: Logger,
): Promise<string> {
  const protocol = server.protocol;
  const bytes = deps.metrics.bytesRelayed;
  const info = entry.info;
  return relay(client, upstream, {
    proxyTimeout: server.proxy_timeout,
    signal: entry.abort.signal,
    onUpstream: (n) => {
      info.bytesUp += n;
      bytes.inc({ protocol, direction: "upstream" }, n);
    },
    onDownstream: (n) => {
      info.bytesDown += n;
      bytes.inc({ protocol, direction: "downstream" }, n);
    },
  }).then((result) => {
    log.info("proxied session done: {detail}, {up} bytes up, {down} bytes down, {seconds}s", {
      detail: result.detail,
      up: result.upstreamBytes,
      down: result.downstreamBytes,
      seconds: ((Date.now() - info.startedAt) / 1000).toFixed(3),
    });
    return result.end;
  });
}

/**
 * What goes to the backend before the login dialogue: the PROXY header (one write, spec
 * §5.1), TLS (`backend_tls`), and the preamble exchanges (STARTTLS, IMAP ID). Returns
 * the backend's greeting when the preamble consumed it (the login machine gets it
 * replayed), else null.
 */
export async function backendPreamble(
  client: Conn,
  upstream: Conn,
  server: ServerConfig,
  ok: AuthOk,
  mode: BackendTlsMode,
  entry: SessionEntry,
  deps: SessionDeps,
  facts: ClientFacts,
  internalError: Uint8Array,
  fail: (stage: string, why: string, toClient: Uint8Array) => Promise<never>,
): Promise<Uint8Array | null> {
  if (server.proxy_protocol !== "off") {
    const endpoints = {
      srcAddr: client.remoteAddr.transport === "tcp" ? client.remoteAddr.hostname : null,
      srcPort: addressPort(client.remoteAddr),
      dstAddr: client.localAddr.transport === "tcp" ? client.localAddr.hostname : null,
      dstPort: addressPort(client.localAddr),
    };
    await upstream.write(
      server.proxy_protocol === "v1" ? proxyV1(endpoints) : proxyV2(endpoints, facts.tls?.proxy),
    );
  }
  const handshake = () => {
    if (!deps.tls || !upstream.startTls) throw new Error("backend TLS is not available");
    return upstream.startTls(deps.tls.backend.handshake(ok.server));
  };
  if (mode === "on") {
    try {
      await handshake();
    } catch (err) {
      return await fail("tls", `TLS handshake failed: ${errorText(err)}`, internalError);
    }
  }
  const imapId = server.imap_id && server.protocol === "imap"
    ? imapIdCommand({
      clientIp: addressIp(client.remoteAddr),
      clientPort: addressPort(client.remoteAddr),
      localIp: addressIp(client.localAddr),
      localPort: addressPort(client.localAddr),
      sessionId: entry.info.id,
    })
    : undefined;
  const opts = {
    protocol: server.protocol,
    starttls: mode === "starttls",
    ehloName: server.server_name,
    imapId,
  };
  if (!BackendPreamble.needed(opts)) return null;
  const preamble = new BackendPreamble(opts);
  while (true) {
    const data = await upstream.read();
    if (data === null) return await fail("login", "upstream closed connection", internalError);
    let step = preamble.receive(data);
    while (step !== null) {
      switch (step.kind) {
        case "send":
          await upstream.write(step.data);
          step = null;
          break;
        case "starttls":
          try {
            await handshake();
          } catch (err) {
            return await fail("tls", `STARTTLS handshake failed: ${errorText(err)}`, internalError);
          }
          step = preamble.tlsDone();
          break;
        case "fail":
          return await fail("login", step.log, internalError);
        case "done":
          return step.greeting;
      }
    }
  }
}
