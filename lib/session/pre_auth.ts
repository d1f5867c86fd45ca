/**
 * The pre-auth phase: greeting, commands, the auth provider, Auth-Wait (spec §4, §3.4).
 * @module
 */

import type { AuthRequest, AuthResult } from "../auth/types.ts";
import type { ServerConfig } from "../config/types.ts";
import type { Frontend } from "../protocols/types.ts";
import type { Credentials } from "../types.ts";
import { addressIp, addressPort, formatHostPort } from "../transport/address.ts";
import type { Conn } from "../transport/types.ts";
import { binaryForDisplay } from "../util/bytes.ts";
import { Deadline } from "./deadline.ts";
import { preGreeting } from "./pre_greeting.ts";
import type { SessionEntry } from "./registry.ts";
import { type ClientFacts, type LoggedIn, type Logger, type SessionDeps, sleep } from "./context.ts";
import { tlsUpgrade } from "./client_setup.ts";

/** Greeting and commands until the auth provider says where to go; null if the session ended. */
export async function preAuth(
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
export async function authenticate(
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
  if (server.upstream !== null) request.defaultUpstream = server.upstream;
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
        backend: result.upstream !== undefined
          ? `upstream ${result.upstream}`
          : formatHostPort(result.server, result.port),
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
