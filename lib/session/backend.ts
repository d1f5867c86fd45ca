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
import { type BackendCandidate, type BackendTargets, fixedTarget } from "../upstream/mod.ts";
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
 * A try failed for a reason another server of the upstream may not have (connect refused
 * or timed out, no greeting, closed before the login reply): the next candidate may go.
 */
class TransportFailure extends Error {}

/**
 * Backend connect and login, then starts the relay and returns (without waiting for it,
 * so that this frame and the login state it holds are freed during the relay).
 *
 * The backends come from {@link BackendTargets}: the one the auth reply named (nginx), or
 * an upstream's candidates in hash order (lib/upstream). Only transport failures move on
 * to the next candidate, without the client noticing; a backend's refusal of the login is
 * final. When no candidate is left the client gets the protocol's temporary failure.
 */
export async function proxy(
  client: Conn,
  frontend: Frontend,
  server: ServerConfig,
  entry: SessionEntry,
  deps: SessionDeps,
  log: Logger,
  loggedIn: LoggedIn,
  facts: ClientFacts,
): Promise<Relaying> {
  const { ok, credentials } = loggedIn;
  entry.info.state = "backend-login";
  if (ok.user !== undefined) entry.info.user = binaryForDisplay(ok.user);
  const targets = backendTargets(ok, server, credentials.user, entry.info.id, deps, log);
  while (true) {
    const candidate = await targets.next();
    if (candidate === null) {
      if (entry.abort.signal.aborted) {
        throw new SessionEnd(`session ended: ${entry.abort.signal.reason}`, "aborted");
      }
      if (targets.problem !== null) log.error("backend login impossible: {why}", { why: targets.problem });
      // An unusable auth reply is an internal error (as a bad Auth-Server); a pool whose
      // servers all failed is temporary: the client should come back later.
      await client.write(targets.problem !== null ? frontend.internalError() : frontend.unavailable())
        .catch(() => {});
      throw new SessionEnd(
        `session ended before relay (${targets.problem ?? "no upstream server available"})`,
        "backend-unavailable",
      );
    }
    const verdict = { rejected: false };
    try {
      const relaying = await attempt(
        client,
        frontend,
        server,
        entry,
        deps,
        log,
        loggedIn,
        facts,
        candidate,
        verdict,
      );
      await targets.report(candidate, "ok");
      return { relayed: relaying.relayed.finally(() => targets.ended()) };
    } catch (err) {
      if (err instanceof TransportFailure) {
        await targets.report(candidate, "transport");
        continue;
      }
      await targets.report(candidate, verdict.rejected ? "rejected" : "internal");
      throw err;
    }
  }
}

/** Where the login may go: the named backend, or the candidates of an upstream. */
function backendTargets(
  ok: AuthOk,
  server: ServerConfig,
  login: string,
  sessionId: string,
  deps: SessionDeps,
  log: Logger,
): BackendTargets {
  if (ok.upstream === undefined) {
    return fixedTarget({
      host: ok.server,
      port: ok.port,
      address: formatHostPort(ok.server, ok.port),
      upstream: null,
    });
  }
  if (!deps.upstreams) {
    return {
      problem: `upstream "${binaryForDisplay(ok.upstream)}" named but no [[upstream]] is configured`,
      next: () => Promise.resolve(null),
      report: () => Promise.resolve(),
      ended: () => {},
    };
  }
  return deps.upstreams.targets(ok, server.protocol, login, sessionId, log);
}

/** One try: connect, preamble and login to `candidate`, then the relay starts. */
async function attempt(
  client: Conn,
  frontend: Frontend,
  server: ServerConfig,
  entry: SessionEntry,
  deps: SessionDeps,
  log: Logger,
  { ok: named, credentials }: LoggedIn,
  facts: ClientFacts,
  candidate: BackendCandidate,
  verdict: { rejected: boolean },
): Promise<Relaying> {
  const pooled = candidate.upstream !== null;
  // An upstream's server replaces the reply's (empty) address; everything else stays.
  const ok: AuthOk = pooled ? { ...named, server: candidate.host, port: candidate.port } : named;
  const backendName = candidate.address;
  // Per login (Auth-Backend-TLS) beats per upstream beats per server.
  const backendTls: BackendTlsMode = ok.backendTls ?? candidate.backendTls ?? server.backend_tls;
  const preambleServer =
    candidate.proxyProtocol !== undefined && candidate.proxyProtocol !== server.proxy_protocol
      ? { ...server, proxy_protocol: candidate.proxyProtocol }
      : server;
  entry.info.backend = backendName;
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
  // A pool's candidate first gets its short connect timeout (connect and greeting); one
  // that greeted in time gets the rest of `timeout` when that fires, so a login costs one
  // timer either way.
  let greeted = !pooled || candidate.connectTimeout === undefined;
  let extended = false;
  const expire = () => {
    if (greeted && !extended && pooled && candidate.connectTimeout !== undefined) {
      extended = true;
      const rest = server.timeout - (performance.now() - started);
      if (rest > 0) {
        timer = setTimeout(expire, rest);
        return;
      }
    }
    timedOut = true;
    backend?.close();
    onTimeout?.();
  };
  let timer = setTimeout(
    expire,
    candidate.connectTimeout !== undefined
      ? Math.min(candidate.connectTimeout, server.timeout)
      : server.timeout,
  );
  const onAbort = () => {
    backend?.close();
    entry.farewell = sayGoodbye(client, server.protocol, entry.abort.signal.reason);
  };
  entry.abort.signal.addEventListener("abort", onAbort);
  const fail = async (stage: string, why: string, toClient: Uint8Array, transport = true) => {
    // Ended by a kick or shutdown: the goodbye was sent; this is no backend failure.
    if (entry.abort.signal.aborted) {
      throw new SessionEnd(`session ended: ${entry.abort.signal.reason}`, "aborted");
    }
    deps.metrics.backendFailures.inc({ backend: backendName, stage });
    if (pooled && transport) {
      // Another server of the upstream may do: the client hears nothing of this one.
      log.warn("backend {backend} {stage} failed: {why}", { backend: backendName, stage, why });
      throw new TransportFailure(why);
    }
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
      preambleServer,
      ok,
      backendTls,
      entry,
      deps,
      facts,
      frontend.internalError(),
      fail,
    );
    // The pool's short connect timeout covers connect and greeting; once the backend
    // has spoken, the login itself gets the rest of `timeout`, as a fixed backend's does.
    // The backend spoke: from now on the login has the rest of `timeout` (see expire).
    const spoke = () => (greeted = true);
    if (greeting !== null) spoke();
    const login = frontend.backendLogin(ok, credentials);
    let replay: Uint8Array | null = greeting;
    let done: Uint8Array | null = null;
    while (done === null) {
      let data: Uint8Array | null;
      try {
        data = replay ?? await upstream.read();
        replay = null;
        if (data !== null) spoke();
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
          // The backend answered the login: a refusal is final, never another server's to try.
          verdict.rejected = true;
          await fail("login", step.log, step.toClient, false);
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
    if (candidate.route === undefined) {
      log.info("client logged in, upstream {backend}", { backend: backendName });
    } else {
      // An upstream's choice is logged with the login it led to: no extra line per login.
      log.info("client logged in, upstream {backend} ({route})", {
        backend: backendName,
        route: candidate.route,
      });
    }
    entry.info.state = "relay";
    entry.abort.signal.removeEventListener("abort", onAbort);
    handedOff = true;
    return { relayed: startRelay(client, upstream, server, entry, deps, log) };
  } catch (err) {
    if (err instanceof SessionEnd || err instanceof TransportFailure) throw err;
    if (!answered && pooled && !entry.abort.signal.aborted) {
      // A write to a backend that went away before the login reply: try the next one.
      log.warn("backend {backend} failed during login: {why}", { backend: backendName, why: errorText(err) });
      throw new TransportFailure(errorText(err));
    }
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
