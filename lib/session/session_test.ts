/**
 * The session driver, phase by phase, against scripted fakes (test_support.ts): no
 * sockets, no lab. Timeouts are configured in a few ms; nothing asserts a duration.
 */

import assert from "node:assert/strict";
import type { AuthResult } from "../auth/types.ts";
import type { ListenSpec, ServerConfig } from "../config/types.ts";
import { MailproxyMetrics } from "../metrics/mailproxy_metrics.ts";
import { testServerConfig } from "../../tests/helpers/server_config.ts";
import type { BackendFailure, BackendTargetSource } from "./backend_target.ts";
import { buildRealIpTrust } from "../proxy_protocol/trust.ts";
import { SHUTDOWN_REASON } from "./goodbye.ts";
import { SessionRegistry } from "./registry.ts";
import { runSession, type SessionDeps } from "./session.ts";
import { type ConnectScript, FakeAuth, FakeConn, FakeTransport } from "./test_support.ts";
import { ClientHostLookup } from "../resolver/mod.ts";

const LISTEN: ListenSpec = {
  raw: "127.0.0.1:143",
  transport: "tcp",
  host: "127.0.0.1",
  port: 143,
  ssl: false,
  proxy_protocol: false,
};
const OK: AuthResult = { status: "ok", server: "10.0.0.1", port: 143 };
const LITERAL_PLUS_GREETING = "* OK [CAPABILITY IMAP4rev1 LITERAL+] backend ready\r\n";

/** One session under test: its client, its dependencies and its end. */
function start(
  opts: {
    server?: Partial<ServerConfig>;
    auth?: AuthResult[];
    connects?: ConnectScript[];
    targets?: BackendTargetSource;
    listen?: Partial<ListenSpec>;
    deps?: Partial<SessionDeps>;
  } = {},
) {
  const client = new FakeConn();
  const transport = new FakeTransport(...(opts.connects ?? []));
  const auth = new FakeAuth(...(opts.auth ?? [OK]));
  const metrics = new MailproxyMetrics();
  const registry = new SessionRegistry();
  const deps: SessionDeps = {
    transport,
    auth,
    metrics,
    registry,
    resolver: new ClientHostLookup(),
    backendTargets: opts.targets,
    ...opts.deps,
  };
  const server = testServerConfig({ timeout: 5_000, ...opts.server });
  const done = runSession(client, server, { ...LISTEN, ...opts.listen }, deps);
  /** The `end` label the session was counted with, once it ended. */
  const end = async () => {
    await done;
    return /end="([^"]+)"/.exec(metrics.sessionsDone.render())?.[1];
  };
  return { client, transport, auth, metrics, registry, done, end };
}

/** A backend that greets with LITERAL+ (the LOGIN then goes out in one write). */
function greetingBackend(): FakeConn {
  const backend = new FakeConn("10.0.0.1", "127.0.0.1", 50000);
  backend.feed(LITERAL_PLUS_GREETING);
  return backend;
}

Deno.test("session: greeting, then the client leaves during pre-auth", async () => {
  const t = start();
  await t.client.waitFor(/^\* OK IMAP4 ready\r\n/);
  assert.equal(t.registry.list()[0].state, "pre-auth");
  t.client.end();
  assert.equal(await t.end(), "pre-auth");
  assert.equal(t.registry.size, 0);
  assert.equal(t.client.closed, true);
});

Deno.test("session: pre-auth errors are answered, max_errors closes", async () => {
  const t = start({ server: { max_errors: 2 } });
  await t.client.waitFor(/IMAP4 ready/);
  t.client.feed("a BOGUS\r\n");
  await t.client.waitFor(/a BAD[^\r]*\r\n/);
  t.client.feed("b BOGUS\r\n");
  assert.equal(await t.end(), "pre-auth");
  assert.equal(t.auth.requests.length, 0);
});

Deno.test("session: an auth failure with Auth-Wait answers after the wait, the next attempt is counted", async () => {
  const t = start({
    auth: [{ status: "fail", message: "bad password", wait: 0.005 }, {
      status: "fail",
      message: "again",
      wait: 0,
    }],
  });
  await t.client.waitFor(/IMAP4 ready/);
  t.client.feed("a LOGIN user wrong\r\n");
  await t.client.waitFor(/a NO [^\r]*bad password[^\r]*\r\n/);
  t.client.feed("b LOGIN user wrong2\r\n");
  assert.equal(await t.end(), "pre-auth");
  assert.deepEqual(t.auth.requests.map((r) => r.attempt), [1, 2]);
  assert.deepEqual(t.auth.requests.map((r) => r.pass), ["wrong", "wrong2"]);
  assert.match(t.client.written, /b NO [^\r]*again/);
  // The session ended on a line of its own: half-close and drain, no reset (issue #18 item 8).
  assert.equal(t.client.gracefulCloses, 1);
});

Deno.test("session: an auth service error gives the internal error", async () => {
  const t = start({ auth: [{ status: "error", reason: "auth down" }] });
  await t.client.waitFor(/IMAP4 ready/);
  t.client.feed("a LOGIN user pass\r\n");
  assert.equal(await t.end(), "pre-auth");
  assert.match(t.client.written, /\* BAD internal server error\r\n$/);
});

Deno.test("session: backend refused gives the internal error, counted as a connect failure", async () => {
  const t = start({ connects: ["refused"] });
  await t.client.waitFor(/IMAP4 ready/);
  t.client.feed("a LOGIN user pass\r\n");
  assert.equal(await t.end(), "backend-connect");
  assert.match(t.client.written, /\* BAD internal server error\r\n$/);
  assert.match(t.metrics.backendFailures.render(), /backend="10\.0\.0\.1:143",stage="connect"\} 1/);
  assert.deepEqual(t.transport.connects, ["10.0.0.1:143"]);
});

Deno.test("session: a backend login rejected ends the session, the client gets nginx's internal error", async () => {
  const backend = greetingBackend();
  const t = start({ connects: [backend] });
  await t.client.waitFor(/IMAP4 ready/);
  t.client.feed("a LOGIN user pass\r\n");
  await backend.waitFor(/a LOGIN \{4\+\}\r\nuser \{4\+\}\r\npass\r\n/);
  backend.feed("a NO [AUTHENTICATIONFAILED] Authentication failed.\r\n");
  assert.equal(await t.end(), "backend-login");
  assert.match(t.client.written, /\* BAD internal server error\r\n$/);
  assert.equal(backend.closed, true);
});

Deno.test("session: login, pipelined bytes and the relay; the relay owns the abort", async () => {
  const backend = greetingBackend();
  const t = start({ connects: [backend] });
  await t.client.waitFor(/IMAP4 ready/);
  t.client.feed("a LOGIN user pass\r\nb NOOP\r\n");
  await backend.waitFor(/pass\r\n/);
  backend.feed("a OK Logged in\r\n");
  await t.client.waitFor(/a OK Logged in\r\n/);
  await backend.waitFor(/b NOOP\r\n/);
  backend.feed("b OK NOOP done\r\n");
  await t.client.waitFor(/b OK NOOP done\r\n/);
  t.client.feed("c NOOP\r\n");
  await backend.waitFor(/c NOOP\r\n/);
  assert.equal(t.registry.list()[0].state, "relay");
  assert.equal(t.registry.list()[0].backend, "10.0.0.1:143");
  // A kick during the relay injects nothing: both sides just close.
  t.registry.killAll(SHUTDOWN_REASON);
  assert.equal(await t.end(), "aborted");
  assert.doesNotMatch(t.client.written, /BYE/);
  assert.equal(backend.closed, true);
  // A relayed session is closed as the backend left it, with no drain of our own.
  assert.equal(t.client.gracefulCloses, 0);
});

Deno.test("session: the backend closing ends a relayed session", async () => {
  const backend = greetingBackend();
  const t = start({ connects: [backend] });
  await t.client.waitFor(/IMAP4 ready/);
  t.client.feed("a LOGIN user pass\r\n");
  await backend.waitFor(/pass\r\n/);
  backend.feed("a OK Logged in\r\n");
  await t.client.waitFor(/a OK/);
  backend.end();
  assert.equal(await t.end(), "closed");
  assert.equal(t.client.closed, true);
});

Deno.test("session: timeouts — pre-auth", async () => {
  const t = start({ server: { timeout: 10 } });
  await t.client.waitFor(/IMAP4 ready/);
  assert.equal(await t.end(), "pre-auth");
  assert.equal(t.client.closed, true);
});

Deno.test("session: timeouts — backend connect", async () => {
  const t = start({ server: { timeout: 10 }, connects: ["hang"] });
  await t.client.waitFor(/IMAP4 ready/);
  t.client.feed("a LOGIN user pass\r\n");
  assert.equal(await t.end(), "backend-connect");
  assert.match(t.client.written, /\* BAD internal server error\r\n$/);
});

Deno.test("session: timeouts — backend never greets", async () => {
  const backend = new FakeConn("10.0.0.1");
  const t = start({ server: { timeout: 10 }, connects: [backend] });
  await t.client.waitFor(/IMAP4 ready/);
  t.client.feed("a LOGIN user pass\r\n");
  assert.equal(await t.end(), "backend-login");
  assert.match(t.client.written, /\* BAD internal server error\r\n$/);
  assert.equal(backend.closed, true);
});

Deno.test("session: timeouts — relay idle (proxy_timeout)", async () => {
  const backend = greetingBackend();
  const t = start({ server: { proxy_timeout: 10 }, connects: [backend] });
  await t.client.waitFor(/IMAP4 ready/);
  t.client.feed("a LOGIN user pass\r\n");
  await backend.waitFor(/pass\r\n/);
  backend.feed("a OK Logged in\r\n");
  assert.equal(await t.end(), "timeout");
  assert.equal(backend.closed, true);
});

Deno.test("session: shutdown during pre-auth says goodbye", async () => {
  const t = start();
  await t.client.waitFor(/IMAP4 ready/);
  t.registry.killAll(SHUTDOWN_REASON);
  assert.equal(await t.end(), "pre-auth");
  assert.match(t.client.written, /\* BYE Server shutting down\r\n$/);
});

Deno.test("session: a kick during the backend login closes the backend and says goodbye", async () => {
  const backend = new FakeConn("10.0.0.1");
  const t = start({ connects: [backend] });
  await t.client.waitFor(/IMAP4 ready/);
  t.client.feed("a LOGIN user pass\r\n");
  while (t.registry.list()[0]?.state !== "backend-login") await new Promise((r) => setTimeout(r, 1));
  t.registry.kill(t.registry.list()[0].id);
  assert.equal(await t.end(), "aborted");
  assert.match(t.client.written, /\* BYE Session closed by administrator\r\n$/);
  assert.equal(backend.closed, true);
  assert.doesNotMatch(t.metrics.backendFailures.render(), /stage=/, "an abort is no backend failure");
});

Deno.test("session: a kick during Auth-Wait ends the wait", async () => {
  const t = start({ auth: [{ status: "fail", message: "no", wait: 3600 }] });
  await t.client.waitFor(/IMAP4 ready/);
  t.client.feed("a LOGIN user pass\r\n");
  while (t.registry.list()[0]?.state !== "auth") await new Promise((r) => setTimeout(r, 1));
  t.registry.killAll(SHUTDOWN_REASON);
  assert.equal(await t.end(), "pre-auth");
  assert.match(t.client.written, /\* BYE Server shutting down\r\n$/);
});

/** A target source with two candidates; records the failures and the success it was told about. */
function twoTargets(failures: BackendFailure[], succeeded: string[] = []): BackendTargetSource {
  return () => {
    const left = ["10.0.0.1", "10.0.0.2"];
    return {
      next: (failed) => {
        if (failed) failures.push(failed);
        const host = left.shift();
        return host === undefined ? null : { host, port: 143, tls: "off", name: `${host}:143` };
      },
      report: (candidate, result) => void (result === "ok" && succeeded.push(candidate.name)),
    };
  };
}

/** What an upstream-like source (asynchronous, `exhausted: "unavailable"`) was told. */
interface PoolLog {
  failures: BackendFailure[];
  reports: string[];
  ended: number;
}

/**
 * A source like lib/server/upstream_targets.ts: asynchronous `next`, candidates with a
 * connect timeout and a route label, the temporary failure when none is left.
 */
function poolTargets(pool: PoolLog, hosts = ["10.0.0.1", "10.0.0.2"], connectTimeout?: number) {
  const source: BackendTargetSource = () => {
    const left = [...hosts];
    return {
      exhausted: "unavailable",
      next: async (failed) => {
        await Promise.resolve();
        if (failed) pool.failures.push(failed);
        const host = left.shift();
        return host === undefined
          ? null
          : { host, port: 143, tls: "off", name: `${host}:143`, connectTimeout, route: "pool, hash" };
      },
      report: async (candidate, result) => {
        await Promise.resolve();
        pool.reports.push(`${candidate.name} ${result}`);
      },
      ended: () => void pool.ended++,
    };
  };
  return source;
}

const newPool = (): PoolLog => ({ failures: [], reports: [], ended: 0 });

Deno.test("backend targets: a transport failure moves on to the next candidate", async () => {
  const failures: BackendFailure[] = [];
  const succeeded: string[] = [];
  const backend = greetingBackend();
  const t = start({ connects: ["refused", backend], targets: twoTargets(failures, succeeded) });
  await t.client.waitFor(/IMAP4 ready/);
  t.client.feed("a LOGIN user pass\r\n");
  await backend.waitFor(/pass\r\n/);
  backend.feed("a OK Logged in\r\n");
  await t.client.waitFor(/a OK Logged in\r\n/);
  assert.deepEqual(t.transport.connects, ["10.0.0.1:143", "10.0.0.2:143"]);
  assert.deepEqual(failures.map((f) => [f.kind, f.stage]), [["transport", "connect"]]);
  assert.deepEqual(succeeded, ["10.0.0.2:143"]);
  assert.doesNotMatch(t.client.written, /internal server error/, "the client saw no failure");
  assert.equal(t.registry.list()[0].backend, "10.0.0.2:143");
  backend.end();
  assert.equal(await t.end(), "closed");
});

Deno.test("backend targets: a rejected login is never tried on another candidate", async () => {
  const failures: BackendFailure[] = [];
  const first = greetingBackend();
  const second = greetingBackend();
  const t = start({ connects: [first, second], targets: twoTargets(failures) });
  await t.client.waitFor(/IMAP4 ready/);
  t.client.feed("a LOGIN user pass\r\n");
  await first.waitFor(/pass\r\n/);
  first.feed("a NO [AUTHENTICATIONFAILED] Authentication failed.\r\n");
  assert.equal(await t.end(), "backend-login");
  assert.deepEqual(t.transport.connects, ["10.0.0.1:143"]);
  assert.equal(failures.length, 0);
  assert.equal(second.written, "");
});

Deno.test("backend targets: a backend closing before the login reply is a transport failure", async () => {
  const failures: BackendFailure[] = [];
  const first = greetingBackend();
  const second = greetingBackend();
  const t = start({ connects: [first, second], targets: twoTargets(failures) });
  await t.client.waitFor(/IMAP4 ready/);
  t.client.feed("a LOGIN user pass\r\n");
  await first.waitFor(/pass\r\n/);
  first.end();
  await second.waitFor(/pass\r\n/);
  second.feed("a OK Logged in\r\n");
  await t.client.waitFor(/a OK Logged in\r\n/);
  assert.deepEqual(failures.map((f) => [f.kind, f.stage, f.why]), [[
    "transport",
    "login",
    "upstream closed connection",
  ]]);
  second.end();
  assert.equal(await t.end(), "closed");
});

Deno.test("upstream targets: all candidates failing gives the temporary failure, outcome backend-unavailable", async () => {
  const pool = newPool();
  const t = start({ connects: ["refused", "refused"], targets: poolTargets(pool) });
  await t.client.waitFor(/IMAP4 ready/);
  t.client.feed("a LOGIN user pass\r\n");
  assert.equal(await t.end(), "backend-unavailable");
  assert.deepEqual(t.transport.connects, ["10.0.0.1:143", "10.0.0.2:143"]);
  assert.deepEqual(pool.failures.map((f) => [f.kind, f.stage]), [["transport", "connect"], [
    "transport",
    "connect",
  ]]);
  assert.match(t.client.written, /a NO \[UNAVAILABLE\] Backend server unavailable, try again later\r\n$/);
  assert.doesNotMatch(t.client.written, /internal server error/);
  assert.deepEqual(pool.reports, [], "no final result: the candidates ran out");
  assert.equal(pool.ended, 0);
});

Deno.test("upstream targets: POP3 and SMTP get their temporary failures", async () => {
  const pop3 = start({
    server: { protocol: "pop3" },
    connects: [],
    targets: poolTargets(newPool(), ["10.0.0.1"]),
  });
  await pop3.client.waitFor(/^\+OK/);
  pop3.client.feed("USER user\r\nPASS pass\r\n");
  assert.equal(await pop3.end(), "backend-unavailable");
  assert.match(pop3.client.written, /-ERR \[SYS\/TEMP\] Backend server unavailable, try again later\r\n$/);
  const smtp = start({
    server: { protocol: "smtp", smtp_auth: ["plain"] },
    connects: [],
    targets: poolTargets(newPool(), ["10.0.0.1"]),
  });
  await smtp.client.waitFor(/^220 /);
  smtp.client.feed("EHLO x\r\n");
  await smtp.client.waitFor(/250 /);
  smtp.client.feed("AUTH PLAIN AHVzZXIAcGFzcw==\r\n");
  assert.equal(await smtp.end(), "backend-unavailable");
  assert.match(smtp.client.written, /451 4\.3\.0 Backend server unavailable, try again later\r\n$/);
});

Deno.test("upstream targets: a transport failure moves on, the login is reported and ended() runs once", async () => {
  const pool = newPool();
  const backend = greetingBackend();
  const t = start({ connects: ["refused", backend], targets: poolTargets(pool) });
  await t.client.waitFor(/IMAP4 ready/);
  t.client.feed("a LOGIN user pass\r\n");
  await backend.waitFor(/pass\r\n/);
  backend.feed("a OK Logged in\r\n");
  await t.client.waitFor(/a OK Logged in\r\n/);
  assert.deepEqual(pool.failures.map((f) => [f.kind, f.stage]), [["transport", "connect"]]);
  assert.deepEqual(pool.reports, ["10.0.0.2:143 ok"]);
  assert.equal(pool.ended, 0, "not before the relay ends");
  backend.end();
  assert.equal(await t.end(), "closed");
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(pool.ended, 1);
});

Deno.test("upstream targets: a rejected login is final, reported, and never tried elsewhere", async () => {
  const pool = newPool();
  const first = greetingBackend();
  const second = greetingBackend();
  const t = start({ connects: [first, second], targets: poolTargets(pool) });
  await t.client.waitFor(/IMAP4 ready/);
  t.client.feed("a LOGIN user pass\r\n");
  await first.waitFor(/pass\r\n/);
  first.feed("a NO [AUTHENTICATIONFAILED] Authentication failed.\r\n");
  assert.equal(await t.end(), "backend-login");
  assert.deepEqual(t.transport.connects, ["10.0.0.1:143"]);
  assert.deepEqual(pool.failures, []);
  assert.deepEqual(pool.reports, ["10.0.0.1:143 rejected"]);
  assert.equal(pool.ended, 0);
  // The backend's own refusal, as without an upstream (nginx's line without proxy_pass_error_message).
  assert.match(t.client.written, /\* BAD internal server error\r\n$/);
  assert.doesNotMatch(t.client.written, /UNAVAILABLE/);
});

Deno.test("upstream targets: a silent server costs the connect timeout, not the whole timeout", async () => {
  const pool = newPool();
  const silent = new FakeConn("10.0.0.1", "127.0.0.1", 50000);
  const backend = greetingBackend();
  const t = start({
    server: { timeout: 60_000 },
    connects: [silent, backend],
    targets: poolTargets(pool, undefined, 20),
  });
  await t.client.waitFor(/IMAP4 ready/);
  t.client.feed("a LOGIN user pass\r\n");
  await backend.waitFor(/pass\r\n/);
  assert.deepEqual(pool.failures.map((f) => [f.kind, f.why]), [["transport", "upstream timed out"]]);
  // The second one spoke: its login is not cut by the 20 ms connect timeout.
  await new Promise((r) => setTimeout(r, 50));
  backend.feed("a OK Logged in\r\n");
  await t.client.waitFor(/a OK Logged in\r\n/);
  backend.end();
  assert.equal(await t.end(), "closed");
});

Deno.test("upstream targets: an unroutable login (problem) gets the internal error", async () => {
  const t = start({ auth: [{ status: "ok", server: "", port: 0, upstream: "nowhere" }] });
  await t.client.waitFor(/IMAP4 ready/);
  t.client.feed("a LOGIN user pass\r\n");
  assert.equal(await t.end(), "backend-unavailable");
  assert.deepEqual(t.transport.connects, []);
  assert.match(t.client.written, /\* BAD internal server error\r\n$/);
});

Deno.test("session: an access refusal gets the protocol's line", async () => {
  const t = start({
    server: {
      protocol: "smtp",
      access: [{ action: "deny", raw: "all", match: { kind: "all" } }],
    },
  });
  assert.equal(await t.end(), "refused");
  assert.equal(t.client.written, "554 5.7.1 Access denied\r\n");
});

Deno.test("session: timeouts — the PROXY header (accept phase)", async () => {
  const realIp = await buildRealIpTrust(["192.0.2.0/24"]);
  const t = start({ server: { timeout: 10 }, listen: { proxy_protocol: true }, deps: { realIp } });
  // The deadline closes the client; the header reader then reports a closed connection.
  assert.equal(await t.end(), "proxy-protocol");
  assert.equal(t.client.written, "", "no greeting before the PROXY header");
  assert.equal(t.client.closed, true);
});

Deno.test("session: a PROXY header names the real client for the rest of the session", async () => {
  const realIp = await buildRealIpTrust(["192.0.2.0/24"]);
  const t = start({
    listen: { proxy_protocol: true },
    deps: { realIp },
    auth: [{ status: "error", reason: "x" }],
  });
  t.client.feed("PROXY TCP4 198.51.100.9 127.0.0.1 5555 143\r\n");
  await t.client.waitFor(/IMAP4 ready/);
  assert.equal(t.registry.list()[0].client, "198.51.100.9:5555");
  t.client.feed("a LOGIN user pass\r\n");
  assert.equal(await t.end(), "pre-auth");
  assert.equal(t.auth.requests[0].clientIp, "198.51.100.9");
});

Deno.test("session: SMTP greeting delay — a client talking first is answered and dropped", async () => {
  const t = start({ server: { protocol: "smtp", smtp_greeting_delay: 5_000 } });
  t.client.feed("EHLO early\r\n");
  assert.equal(await t.end(), "pre-auth");
  assert.doesNotMatch(t.client.written, /^220/, "no greeting");
  assert.match(t.client.written, /^5\d\d [^\r]*\r\n$/);
});

Deno.test("session: SMTP greeting delay passes, then the greeting", async () => {
  const t = start({ server: { protocol: "smtp", smtp_greeting_delay: 5 } });
  await t.client.waitFor(/^220 localhost ESMTP ready\r\n/);
  t.client.feed("QUIT\r\n");
  assert.equal(await t.end(), "pre-auth");
  assert.match(t.client.written, /221 [^\r]*\r\n$/);
});
