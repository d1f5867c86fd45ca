/**
 * The backend phases: for each candidate the target source gives (backend_target.ts),
 * `backend-connect` (backend_connect.ts) then `backend-login` (backend_login.ts),
 * until one logs the user in or a failure is final; then the relay starts (spec §5).
 * With an upstream's candidates (lib/server wires lib/upstream in), only transport
 * failures move on to the next candidate, without the client noticing; when none is left
 * the client gets the protocol's temporary failure (outcome `backend-unavailable`).
 * @module
 */

import { relay } from "../relay/mod.ts";
import type { Frontend } from "../protocols/mod.ts";
import type { Conn } from "../transport/mod.ts";
import { binaryForDisplay } from "../util/bytes.ts";
import { connectBackend } from "./backend_connect.ts";
import { loginBackend } from "./backend_login.ts";
import {
  authServerTargets,
  type BackendCandidate,
  type BackendFailure,
  type BackendTargets,
} from "./backend_target.ts";
import { errorText, type LoggedIn, type Logger, SessionEnd } from "./context.ts";
import type { SessionEntry } from "./registry.ts";
import type { SessionScope } from "./scope.ts";

/** A session whose relay runs: `relayed` resolves with the session outcome. */
export interface Relaying {
  relayed: Promise<string>;
}

/** A candidate that logged the user in. */
interface LoggedInBackend {
  targets: BackendTargets;
  target: BackendCandidate;
  conn: Conn;
  /** The backend's success reply, for the client. */
  reply: Uint8Array;
  started: number;
}

/**
 * Backend connect and login, then starts the relay and returns (without waiting for it,
 * so that this frame and the login state it holds are freed during the relay).
 */
export async function proxy(s: SessionScope, frontend: Frontend, loggedIn: LoggedIn): Promise<Relaying> {
  const { client, entry, deps, log } = s;
  if (loggedIn.ok.user !== undefined) entry.info.user = binaryForDisplay(loggedIn.ok.user);
  /** The client got the login reply: from here on a failure is no internal error. */
  let answered = false;
  /** The relay owns both connections now. */
  let handedOff = false;
  /** The candidate that logged the user in, and its targets (told `ended()` once). */
  let found: LoggedInBackend | null = null;
  try {
    found = await findBackend(s, frontend, loggedIn);
    const upstream = found.conn;
    s.deadline.disarm();
    deps.metrics.backendLoginDuration.observe(
      { backend: found.target.name },
      (performance.now() - found.started) / 1000,
    );
    answered = true;
    await client.write(found.reply);
    const pipelined = frontend.takePipelined();
    if (pipelined.length > 0) await upstream.write(pipelined);
    const route = found.target.route;
    if (route === undefined) log.info("client logged in, upstream {backend}", { backend: found.target.name });
    else {
      // An upstream's choice is logged with the login it led to: no extra line per login.
      log.info("client logged in, upstream {backend} ({route})", { backend: found.target.name, route });
    }
    s.handOff();
    handedOff = true;
    const relayed = startRelay(client, upstream, s.server, entry, s.deps, log);
    const targets = found.targets;
    return { relayed: targets.ended === undefined ? relayed : relayed.finally(() => targets.ended?.()) };
  } catch (err) {
    if (err instanceof SessionEnd) throw err;
    if (!answered) {
      // Failed before the login reply (e.g. a write to a timed-out backend): nginx's internal error.
      await client.write(new TextEncoder().encode(s.protocol.lines.internalError)).catch(() => {});
    }
    throw new SessionEnd(
      s.deadline.expired ? "upstream timed out" : `session ended during backend login: ${errorText(err)}`,
      "backend-login",
    );
  } finally {
    s.deadline.disarm();
    if (!handedOff) {
      s.backend?.close();
      s.backend = null;
      // Logged in, but the session ended before the relay (the client went away).
      found?.targets.ended?.();
    }
  }
}

/**
 * Tries the candidates in turn. Each failure is logged and counted as before
 * (`backend_failures{stage}`); a `transport` failure moves on to the next candidate,
 * the last (or a final) one goes to the client and ends the session.
 */
async function findBackend(
  s: SessionScope,
  frontend: Frontend,
  { ok, credentials }: LoggedIn,
): Promise<LoggedInBackend> {
  const { server, entry, deps, log } = s;
  const targets = (deps.backendTargets ?? authServerTargets)(ok, server, {
    user: credentials.user,
    sessionId: entry.info.id,
    log,
  });
  const pooled = targets.exhausted === "unavailable";
  const cancel: { connect?: (err: Error) => void } = {};
  let failure: BackendFailure | undefined;
  let target = await targets.next();
  while (target !== null) {
    const candidate: BackendCandidate = target;
    // An asynchronous `next()` (an upstream's route store) may span a kick or shutdown.
    if (pooled && s.aborted) throw new SessionEnd(`session ended: ${s.signal.reason}`, "aborted");
    s.enter("backend-connect");
    entry.info.backend = candidate.name;
    const started = performance.now();
    // The backend phases run under the same `timeout` as the pre-auth phase (spec §5.1),
    // per candidate. Only the backend side is ended here: the pending connect or read
    // then fails and the client still gets the internal-error line, as nginx sends it.
    // A candidate with a connect timeout gets that first (connect and greeting); once the
    // backend has spoken, its expiry re-arms the deadline for the rest of `timeout`.
    const short = candidate.connectTimeout;
    let spoke = false;
    let extended = short === undefined;
    const expire = () => {
      if (spoke && !extended) {
        extended = true;
        const rest = server.timeout - (performance.now() - started);
        if (rest > 0) return s.deadline.arm(rest, expire);
      }
      s.backend?.close();
      cancel.connect?.(new Error("timed out"));
    };
    s.deadline.arm(short === undefined ? server.timeout : Math.min(short, server.timeout), expire);
    const markSpoke = extended ? undefined : () => void (spoke = true);
    let result: Uint8Array | BackendFailure;
    try {
      const connected = await connectBackend(s, candidate, cancel);
      if ("conn" in connected) {
        if (connected.greeting !== null) markSpoke?.();
        s.enter("backend-login");
        const login = frontend.backendLogin(ok, credentials);
        result = await loginBackend(s, connected.conn, connected.greeting, login, markSpoke);
        if (result instanceof Uint8Array) {
          await targets.report?.(candidate, "ok");
          return { targets, target: candidate, conn: connected.conn, reply: result, started };
        }
      } else result = connected;
    } catch (err) {
      // A write to a backend that went away before the login reply: for an upstream's
      // candidate another server may do; otherwise the caller's internal error.
      if (!pooled || s.aborted || err instanceof SessionEnd) throw err;
      result = {
        kind: "transport",
        stage: "login",
        why: errorText(err),
        toClient: new TextEncoder().encode(s.protocol.lines.internalError),
      };
    }
    failure = result;
    // Ended by a kick or shutdown: the goodbye was sent; this is no backend failure.
    if (s.aborted) throw new SessionEnd(`session ended: ${s.signal.reason}`, "aborted");
    deps.metrics.backendFailures.inc({ backend: candidate.name, stage: failure.stage });
    const fields = { backend: candidate.name, stage: failure.stage, why: failure.why };
    // An upstream's transport failure is no error yet: the client hears nothing of it.
    if (pooled && failure.kind === "transport") log.warn("backend {backend} {stage} failed: {why}", fields);
    else log.error("backend {backend} {stage} failed: {why}", fields);
    s.deadline.disarm();
    s.backend?.close();
    s.backend = null;
    if (failure.kind !== "transport") {
      await targets.report?.(candidate, failure.kind);
      break;
    }
    target = await targets.next(failure);
  }
  if (s.aborted) throw new SessionEnd(`session ended: ${s.signal.reason}`, "aborted");
  if (targets.problem || (pooled && failure?.kind !== "rejected" && failure?.kind !== "internal")) {
    // An unroutable login is an internal error (as a bad Auth-Server); an upstream whose
    // servers all failed is temporary: the client should come back later.
    const problem = targets.problem;
    if (problem) log.error("backend login impossible: {why}", { why: problem });
    await s.client.write(
      problem ? new TextEncoder().encode(s.protocol.lines.internalError) : frontend.unavailable(),
    )
      .catch(() => {});
    throw new SessionEnd(
      `session ended before relay (${problem || "no upstream server available"})`,
      "backend-unavailable",
    );
  }
  const last = failure ?? {
    stage: "connect",
    toClient: new TextEncoder().encode(s.protocol.lines.internalError),
  };
  if (failure === undefined) log.error("no backend to connect to");
  try {
    await s.client.write(last.toClient);
  } catch {
    // The client is gone; nothing more to tell it.
  }
  throw new SessionEnd(`session ended before relay (${last.stage})`, `backend-${last.stage}`);
}

/**
 * Starts the relay; resolves with the session outcome when it ends. A function of its own
 * so that the relay's callbacks capture only these few values, not the login's state.
 */
function startRelay(
  client: Conn,
  upstream: Conn,
  server: SessionScope["server"],
  entry: SessionEntry,
  deps: SessionScope["deps"],
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
