/**
 * The session driver: runs one client connection through the phases of spec §2
 * (greeting, pre-auth commands, auth, backend login, relay), doing the I/O,
 * timers and auth calls that the sans-I/O protocol machines ask for.
 * @module
 */

import { admitClient } from "../access/admission.ts";
import type { ConnectionLimits } from "../access/limits.ts";
import { refusalText, refuseClient } from "../access/refuse.ts";
import type { AuthOk, AuthProvider, AuthRequest, AuthResult, ProxyProtocolInfo } from "../auth/types.ts";
import type { ListenSpec, ServerConfig } from "../config/types.ts";
import { getLogger } from "../log/mod.ts";
import type { MailproxyMetrics } from "../metrics/mailproxy_metrics.ts";
import { clientBufferSize, createFrontend } from "../protocols/mod.ts";
import type { Credentials, Frontend } from "../protocols/types.ts";
import { imapIdCommand } from "../protocols/imap/backend_id.ts";
import { acceptProxyHeader, proxyV1, proxyV2, type RealIpTrust } from "../proxy_protocol/mod.ts";
import { relay } from "../relay/relay.ts";
import {
  BackendPreamble,
  type BackendTlsMode,
  clientHandshake,
  type ClientTls,
  type ServerTls,
} from "../tls/mod.ts";
import { addressIp, addressPort, formatAddress, formatHostPort } from "../transport/address.ts";
import type { Conn, Transport } from "../transport/types.ts";
import { binaryForDisplay } from "../util/bytes.ts";
import { Deadline } from "./deadline.ts";
import { preGreeting } from "./pre_greeting.ts";
import { sayGoodbye } from "./goodbye.ts";
import { newSessionId, type SessionEntry, type SessionRegistry } from "./registry.ts";

/** What a session needs from the process around it. */
export interface SessionDeps {
  transport: Transport;
  auth: AuthProvider;
  metrics: MailproxyMetrics;
  registry: SessionRegistry;
  /** Connection limits of the process (max_connections, max_connections_per_ip); none = unlimited. */
  limits?: ConnectionLimits;
  /** The server's TLS contexts (lib/tls); needed for `listen … ssl`, `starttls` and backend TLS. */
  tls?: ServerTls;
  /** Who may send PROXY headers (`set_real_ip_from`); needed for `listen … proxy_protocol`. */
  realIp?: RealIpTrust;
}

/** What the session learned about the client beyond its socket: TLS and the PROXY header. */
interface ClientFacts {
  tls?: ClientTls;
  proxy?: ProxyProtocolInfo;
}

const EMPTY = new Uint8Array(0);
/** Reads start this small: most pre-auth commands and idle sessions need no more. */
const MIN_READ = 1024;

/** Why a session ended, for the log and the sessions metric. */
class SessionEnd extends Error {
  constructor(readonly reason: string, readonly outcome: string) {
    super(reason);
  }
}

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
    client.setReadSizing({
      min: Math.min(MIN_READ, clientBufferSize(server)),
      max: clientBufferSize(server),
    });
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

type Logger = ReturnType<typeof getLogger>;

/**
 * Runs a step before the greeting (PROXY header, implicit TLS handshake) under its
 * own `timeout`, as nginx arms one for each. Returns null to go on, else the outcome.
 */
async function beforeGreeting(
  client: Conn,
  server: ServerConfig,
  log: Logger,
  what: string,
  step: () => Promise<string | null>,
): Promise<string | null> {
  const deadline = new Deadline(server.timeout, () => client.close());
  deadline.start();
  try {
    const end = await step();
    if (end !== null && deadline.expired) log.info("client timed out ({what})", { what });
    return end;
  } catch (err) {
    if (deadline.expired) log.info("client timed out ({what})", { what });
    else log.info("client connection error: {error}", { error: errorText(err) });
    return deadline.expired ? "timeout" : "error";
  } finally {
    deadline.stop();
  }
}

/** Reads the PROXY header and applies realip; false when the connection must close. */
async function readProxyHeader(
  client: Conn,
  entry: SessionEntry,
  deps: SessionDeps,
  log: Logger,
  facts: ClientFacts,
): Promise<boolean> {
  const peer = formatAddress(client.remoteAddr);
  if (!deps.realIp) {
    log.error("PROXY protocol header refused: set_real_ip_from is empty");
    return false;
  }
  const pp = await acceptProxyHeader(client, deps.realIp);
  if (!pp.ok) {
    if (pp.closed) log.info("{why}", { why: pp.log });
    else log.error("{why}", { why: pp.log });
    return false;
  }
  facts.proxy = pp.info;
  const real = formatAddress(client.remoteAddr);
  entry.info.client = real;
  if (real !== peer) log.info("client {client} (PROXY protocol from {peer})", { client: real, peer });
  return true;
}

/** A client TLS handshake (implicit or STARTTLS) with metrics and nginx's certificate replies. */
async function tlsUpgrade(
  client: Conn,
  server: ServerConfig,
  deps: SessionDeps,
  log: Logger,
  facts: ClientFacts,
): Promise<boolean> {
  const labels = { server: String(server.index), protocol: server.protocol };
  if (!deps.tls) {
    log.error("TLS requested but the server has no TLS context");
    return false;
  }
  const result = await clientHandshake(client, server, deps.tls);
  if (!result.ok) {
    if (result.handshakeFailed) deps.metrics.tlsHandshakeFailures.inc(labels);
    else deps.metrics.tlsHandshakes.inc(labels);
    log.info("{why}", { why: result.log });
    if (result.reply) await client.write(result.reply).catch(() => {});
    return false;
  }
  deps.metrics.tlsHandshakes.inc(labels);
  facts.tls = result.tls;
  log.info("TLS {protocol} {cipher}{verify}", {
    protocol: result.tls.info.protocol ?? "?",
    cipher: result.tls.info.cipher ?? "?",
    verify: result.tls.info.verify ? `, client certificate ${result.tls.info.verify}` : "",
  });
  return true;
}

interface LoggedIn {
  ok: AuthOk;
  credentials: Credentials;
}

/** Greeting and commands until the auth provider says where to go; null if the session ended. */
async function preAuth(
  client: Conn,
  frontend: Frontend,
  server: ServerConfig,
  entry: SessionEntry,
  deps: SessionDeps,
  log: Logger,
  facts: ClientFacts,
): Promise<LoggedIn | null> {
  const deadline = new Deadline(server.timeout, () => client.close());
  try {
    // SMTP looks the client up and may delay its greeting (pre_greeting.ts).
    const early = await preGreeting(client, frontend, server, entry.abort.signal, log);
    if (!early.go) return null;
    let pending = early.pending;
    await client.write(frontend.greeting());
    deadline.start();
    let attempt = 0;
    while (true) {
      const step = frontend.step();
      if (step === null) {
        const data = await (pending ?? client.read());
        pending = null;
        if (data === null) {
          if (deadline.expired) log.info("client timed out");
          else if (entry.abort.signal.aborted) {
            log.info("session ended: {why}", { why: entry.abort.signal.reason });
          } else log.info("client closed connection");
          return null;
        }
        frontend.receive(data);
        continue;
      }
      switch (step.kind) {
        case "send":
          await client.write(step.data);
          break;
        case "close":
          if (step.data) await client.write(step.data);
          log.info("{reason}", { reason: step.reason });
          return null;
        case "starttls":
          // The reply goes out in clear; the front end already dropped every byte
          // pipelined behind the command (CVE-2014-3556 class). The handshake runs
          // under the same pre-auth deadline (spec §4.0.7).
          await client.write(step.data);
          if (!(await tlsUpgrade(client, server, deps, log, facts))) return null;
          frontend.tlsEstablished();
          break;
        case "auth": {
          deadline.stop();
          attempt++;
          entry.info.state = "auth";
          const credentials = step.credentials;
          entry.info.user = binaryForDisplay(credentials.user);
          const result = await authenticate(
            client,
            server,
            credentials,
            attempt,
            frontend.clientHost,
            entry,
            deps,
            log,
            facts,
          );
          if (entry.abort.signal.aborted) return null;
          if (result.status === "ok") return { ok: result, credentials };
          if (result.status === "error") {
            await client.write(frontend.internalError());
            return null;
          }
          if (result.wait > 0) await sleep(result.wait * 1000, entry.abort.signal);
          if (entry.abort.signal.aborted) return null;
          const reply = frontend.authFailed(result);
          if (reply.kind === "close") {
            if (reply.data) await client.write(reply.data);
            return null;
          }
          if (reply.kind === "send") await client.write(reply.data);
          entry.info.state = "pre-auth";
          deadline.start();
          break;
        }
      }
    }
  } catch (err) {
    if (deadline.expired) log.info("client timed out");
    else {log.info("client connection error: {error}", {
        error: err instanceof Error ? err.message : String(err),
      });}
    return null;
  } finally {
    deadline.stop();
  }
}

/** Asks the auth provider, with metrics and logs; applies the checks every provider shares (spec §3.4). */
async function authenticate(
  client: Conn,
  server: ServerConfig,
  credentials: Credentials,
  attempt: number,
  clientHost: string | undefined,
  entry: SessionEntry,
  deps: SessionDeps,
  log: Logger,
  facts: ClientFacts,
): Promise<AuthResult> {
  const request: AuthRequest = {
    protocol: server.protocol,
    method: credentials.method,
    user: credentials.user,
    pass: credentials.pass,
    salt: credentials.salt,
    attempt,
    clientIp: addressIp(client.remoteAddr),
    clientPort: addressPort(client.remoteAddr),
    clientHost,
    smtp: credentials.smtp,
    sessionId: entry.info.id,
    proxyProtocol: facts.proxy,
    tls: facts.tls?.info,
  };
  const started = performance.now();
  let result = await deps.auth.authenticate(request, entry.abort.signal);
  deps.metrics.authDuration.observe({ provider: deps.auth.name }, (performance.now() - started) / 1000);
  if (
    result.status === "ok" && result.pass === undefined && server.protocol !== "smtp" &&
    (credentials.method === "apop" || credentials.method === "cram-md5" || credentials.method === "external")
  ) {
    result = { status: "error", reason: `auth ${deps.auth.name} did not send password` };
  }
  const user = binaryForDisplay(credentials.user);
  const labels = { protocol: server.protocol, method: credentials.method };
  switch (result.status) {
    case "ok":
      deps.metrics.logins.inc({ ...labels, result: "ok" });
      log.info('login "{user}" accepted by {provider}, backend {backend}', {
        user,
        provider: deps.auth.name,
        backend: formatHostPort(result.server, result.port),
      });
      break;
    case "fail":
      deps.metrics.logins.inc({ ...labels, result: "failed" });
      log.info('client login failed: "{message}", login "{user}"', { message: result.message, user });
      break;
    case "error":
      deps.metrics.logins.inc({ ...labels, result: "error" });
      deps.metrics.authErrors.inc({ provider: deps.auth.name });
      log.error('auth failed for login "{user}": {reason}', { user, reason: result.reason });
      break;
  }
  return result;
}

/** Backend connect and login, then relay. Returns the session outcome. */
async function proxy(
  client: Conn,
  frontend: Frontend,
  server: ServerConfig,
  entry: SessionEntry,
  deps: SessionDeps,
  log: Logger,
  { ok, credentials }: LoggedIn,
  facts: ClientFacts,
): Promise<string> {
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
        deps.transport.connect(ok.server, ok.port, { min: MIN_READ, max: server.proxy_buffer }, {
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
    const proto = server.protocol;
    const result = await relay(client, upstream, {
      proxyTimeout: server.proxy_timeout,
      signal: entry.abort.signal,
      onUpstream: (n) => {
        entry.info.bytesUp += n;
        deps.metrics.bytesRelayed.inc({ protocol: proto, direction: "upstream" }, n);
      },
      onDownstream: (n) => {
        entry.info.bytesDown += n;
        deps.metrics.bytesRelayed.inc({ protocol: proto, direction: "downstream" }, n);
      },
    });
    log.info("proxied session done: {detail}, {up} bytes up, {down} bytes down, {seconds}s", {
      detail: result.detail,
      up: result.upstreamBytes,
      down: result.downstreamBytes,
      seconds: ((Date.now() - entry.info.startedAt) / 1000).toFixed(3),
    });
    return result.end;
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
    backend?.close();
  }
}

/**
 * What goes to the backend before the login dialogue: the PROXY header (one write, spec
 * §5.1), TLS (`backend_tls`), and the preamble exchanges (STARTTLS, IMAP ID). Returns
 * the backend's greeting when the preamble consumed it (the login machine gets it
 * replayed), else null.
 */
async function backendPreamble(
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

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}
