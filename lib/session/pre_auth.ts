/**
 * The `greeting`, `pre-auth`, `authenticating` and `waiting` phases: greeting,
 * commands, the auth provider, Auth-Wait (spec §4, §3.4).
 * @module
 */

import type { AuthRequest, AuthResult } from "../auth/mod.ts";
import type { Frontend } from "../protocols/mod.ts";
import type { Credentials } from "../types.ts";
import { addressIp, addressPort, formatHostPort } from "../transport/mod.ts";
import { binaryForDisplay } from "../util/bytes.ts";
import { sleep } from "../util/timers.ts";
import { errorText, type LoggedIn } from "./context.ts";
import { preGreeting } from "./pre_greeting.ts";
import { tlsUpgrade } from "./accept.ts";
import { countLogin, loginAllowed } from "./login_limit_gate.ts";
import type { SessionScope } from "./scope.ts";

/**
 * Greeting and commands until the auth provider says where to go; null if the session
 * ended. nginx's pre-auth `timeout` is one deadline for the whole phase, not per
 * command (spec §4.0.7), paused while the auth service is asked and re-armed after a
 * failed attempt.
 */
export async function preAuth(s: SessionScope, frontend: Frontend): Promise<LoggedIn | null> {
  const { client, log, deadline } = s;
  const timeout = s.server.timeout;
  const expire = () => client.close();
  try {
    s.enter("greeting");
    // SMTP looks the client up and may delay its greeting (pre_greeting.ts).
    const early = await preGreeting(s, frontend);
    if (!early.go) return null;
    let pending = early.pending;
    await client.write(frontend.greeting());
    s.enter("pre-auth");
    deadline.arm(timeout, expire);
    let attempt = 0;
    while (true) {
      const step = frontend.step();
      if (step === null) {
        const data = await (pending ?? client.read());
        pending = null;
        if (data === null) {
          if (deadline.expired) log.info("client timed out");
          else if (s.aborted) log.info("session ended: {why}", { why: s.signal.reason });
          else log.info("client closed connection");
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
          if (!(await tlsUpgrade(s))) return null;
          frontend.tlsEstablished();
          break;
        case "auth": {
          deadline.disarm();
          attempt++;
          s.enter("authenticating");
          const credentials = step.credentials;
          s.entry.info.user = binaryForDisplay(credentials.user);
          if (!(await loginAllowed(s, frontend, credentials))) return null;
          const result = await authenticate(s, credentials, attempt, frontend.clientHost);
          if (s.aborted) return null;
          // Auth-Wait, or the login limits' longer delay before a failure reply.
          const wait = countLogin(s, credentials, result);
          if (result.status === "ok") return { ok: result, credentials };
          if (result.status === "error") {
            await client.write(frontend.internalError());
            return null;
          }
          s.enter("waiting");
          if (wait > 0 && !(await sleep(wait, s.signal))) return null;
          const reply = frontend.authFailed(result);
          if (reply.kind === "close") {
            if (reply.data) await client.write(reply.data);
            return null;
          }
          if (reply.kind === "send") await client.write(reply.data);
          s.enter("pre-auth");
          deadline.arm(timeout, expire);
          break;
        }
      }
    }
  } catch (err) {
    if (deadline.expired) log.info("client timed out");
    else log.info("client connection error: {error}", { error: errorText(err) });
    return null;
  } finally {
    deadline.disarm();
  }
}

/** Asks the auth provider, with metrics and logs; applies the checks every provider shares (spec §3.4). */
export async function authenticate(
  s: SessionScope,
  credentials: Credentials,
  attempt: number,
  clientHost: string | undefined,
): Promise<AuthResult> {
  const { client, server, deps, log } = s;
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
    sessionId: s.entry.info.id,
    proxyProtocol: s.facts.proxy,
    tls: s.facts.tls?.info,
  };
  if (server.upstream !== null) request.defaultUpstream = server.upstream;
  const started = performance.now();
  let result = await deps.auth.authenticate(request, s.signal);
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
