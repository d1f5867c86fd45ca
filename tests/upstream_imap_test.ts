/**
 * Backend upstreams end to end (issue #15): mailproxy under Deno and Bun in front of
 * three real Dovecot instances on loopback (two servers and a backup of one
 * `[[upstream]]`), the auth service naming the upstream with `Auth-Upstream`, driven by
 * curl and Python's imaplib/poplib. Which Dovecot served a login is read from that
 * Dovecot's own log; every decision is also checked in `/routes/{user}`, the proxy's log
 * and the metrics.
 */

import assert from "node:assert/strict";
import { createServer, type Socket } from "node:net";
import { type AuthService, startAuthService } from "./lab/auth_service.ts";
import { type Dovecot, type LabUser, startDovecot } from "./lab/dovecot.ts";
import { canConnect, freePorts } from "./lab/ports.ts";
import { ADMIN_TOKEN, api, command, imapLogin, waitFor } from "./helpers/ops.ts";
import { type ProxyProcess, startProxy } from "./helpers/proxy_process.ts";
import { python, run } from "./helpers/run.ts";
import { RUNTIMES } from "./helpers/runtimes.ts";

const USERS: LabUser[] = Array.from(
  { length: 12 },
  (_, i) => ({ name: `user${i + 1}`, password: `secret${i + 1}` }),
);
const pass = (user: string) => USERS.find((u) => u.name === user)!.password;

function config(
  auth: AuthService,
  ports: { imap: number; pop3: number; smtp: number; silent: number; dead: number },
  a: Dovecot,
  b: Dovecot,
  c: Dovecot,
): string {
  const { imap, pop3, smtp, silent, dead } = ports;
  return `auth_http = "${auth.url}"
timeout = "10s"

[admin]
listen = "127.0.0.1:{{ADMIN_PORT}}"
token = "${ADMIN_TOKEN}"

[[server]]
listen = "127.0.0.1:${imap}"
protocol = "imap"

[[server]]
listen = "127.0.0.1:${pop3}"
protocol = "pop3"
upstream = "pop_pool"

[[server]]
listen = "127.0.0.1:${smtp}"
protocol = "smtp"
smtp_auth = ["plain", "login"]
upstream = "smtp_pool"

[[upstream]]
name = "pool"
protocol = "imap"
sticky = "1h"
health_check = { interval = "1s", timeout = "1s", fails = 2, passes = 1 }
server = [
  { address = "127.0.0.1:${a.imapPort}" },
  { address = "127.0.0.1:${b.imapPort}" },
  { address = "127.0.0.1:${c.imapPort}", backup = true },
]

[[upstream]]
name = "pop_pool"
protocol = "pop3"
server = [{ address = "127.0.0.1:${a.pop3Port}" }, { address = "127.0.0.1:${b.pop3Port}" }]

# A server that accepts and never greets, and one that refuses: no SMTP login can get through.
[[upstream]]
name = "smtp_pool"
protocol = "smtp"
health_check = { interval = "0", timeout = "500ms" }
server = [{ address = "127.0.0.1:${silent}" }, { address = "127.0.0.1:${dead}" }]
`;
}

/** Successful IMAP logins of `user` in a Dovecot's log. */
function logins(d: Dovecot, user: string, protocol = "imap"): number {
  const re = new RegExp(`${protocol}-login: (Info: )?Login: user=<${user}>`);
  return d.log().split("\n").filter((l) => re.test(l)).length;
}

/**
 * `read()` once it equals `want`, or after 3 s: Dovecot's log process writes a login's
 * line a moment after the login, so a count read right after the client finished may lag.
 */
async function settled(read: () => number, want: number): Promise<number> {
  await waitFor(() => read() === want, 3000);
  return read();
}

/** `read()` once it stopped changing (two reads 200 ms apart agree): a count before an action. */
async function stable(read: () => number): Promise<number> {
  let last = read();
  while (true) {
    await new Promise((r) => setTimeout(r, 200));
    const now = read();
    if (now === last) return now;
    last = now;
  }
}

/** Failed ones (the backend refused the password). */
function refusals(d: Dovecot, user: string): number {
  return d.log().split("\n").filter((l) => /auth failed/i.test(l) && l.includes(`user=<${user}>`)).length;
}

/** One IMAP login, a mailbox list and logout with curl. */
function curlImap(port: number, user: string, password = pass(user)) {
  return run("curl", [
    "-sS",
    "--max-time",
    "15",
    `imap://127.0.0.1:${port}/`,
    "--user",
    `${user}:${password}`,
  ]);
}

/** Where `/routes/{user}` says the user goes. */
async function route(proxy: ProxyProcess, user: string): Promise<{ server: string; source: string }> {
  const r = await api(proxy, `/routes/${user}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

async function metric(proxy: ProxyProcess, pattern: RegExp): Promise<number> {
  const text = (await api(proxy, "/metrics")).body as string;
  return text.split("\n").filter((l) => pattern.test(l)).reduce((n, l) => n + Number(l.split(" ").pop()), 0);
}

async function post(proxy: ProxyProcess, path: string, body?: unknown, method = "POST") {
  const res = await fetch(`${proxy.adminUrl}${path}`, {
    method,
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

for (const runtime of RUNTIMES) {
  Deno.test({
    name: `upstreams: affinity, drain, flush, pin, failover, backup on ${runtime}`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      const [a, b, c] = await Promise.all([0, 1, 2].map(() => startDovecot({ users: USERS })));
      const byAddress = new Map([a, b, c].map((d) => [`127.0.0.1:${d.imapPort}`, d]));
      // The auth service checks nothing: it names the upstream (and a fixed backend, which the
      // upstream must beat) for IMAP, and nothing at all for POP3 (the server's upstream).
      const auth = await startAuthService({ backends: { imap: { host: "127.0.0.1", port: a.imapPort } } });
      auth.script((h): Record<string, string> =>
        h["Auth-Protocol"] === "imap"
          ? {
            "Auth-Status": "OK",
            "Auth-Server": "127.0.0.1",
            "Auth-Port": String(a.imapPort),
            "Auth-Upstream": "pool",
          }
          : { "Auth-Status": "OK" }
      );
      const [imap, pop3, smtp, dead] = await freePorts(4);
      // Accepts connections and never says a word (a hung backend).
      const held = new Set<Socket>();
      const silentServer = createServer((sock) => {
        held.add(sock);
        sock.on("error", () => {});
      });
      await new Promise<void>((r) => silentServer.listen(0, "127.0.0.1", r));
      const silent = (silentServer.address() as { port: number }).port;
      const proxy = await startProxy(
        runtime,
        config(auth, { imap, pop3, smtp, silent, dead }, a, b, c),
        [imap, pop3, smtp],
      );
      const home = new Map<string, string>();
      try {
        await t.step(
          "each user lands on the same server across reconnects; the backup gets nobody",
          async () => {
            for (const { name } of USERS) {
              for (let i = 0; i < 2; i++) {
                const r = await curlImap(imap, name);
                assert.equal(r.code, 0, r.stderr);
              }
              const where = await route(proxy, name);
              assert.equal(where.source, "sticky");
              home.set(name, where.server);
              assert.equal(
                await settled(() => logins(byAddress.get(where.server)!, name), 2),
                2,
                `${name} on ${where.server}`,
              );
            }
            const used = new Set(home.values());
            assert.deepEqual([...used].sort(), [`127.0.0.1:${a.imapPort}`, `127.0.0.1:${b.imapPort}`].sort());
            for (const { name } of USERS) {
              assert.equal(logins(a, name) + logins(b, name), 2, name);
              assert.equal(logins(c, name), 0);
            }
            assert.ok(
              await waitFor(() => /client logged in, upstream \S+ \(pool, hash\)/.test(proxy.logs())),
            );
            assert.match(proxy.logs(), /client logged in, upstream \S+ \(pool, sticky\)/);
            assert.equal(
              await metric(proxy, /^mailproxy_upstream_route_decisions_total\{.*source="hash"/),
              12,
            );
            assert.equal(
              await metric(proxy, /^mailproxy_upstream_route_decisions_total\{.*source="sticky"/),
              12,
            );
            const listed = (await api(proxy, "/upstreams")).body.upstreams[0];
            assert.equal(listed.name, "pool");
            assert.equal(listed.servers.reduce((n: number, s: { users: number }) => n + s.users, 0), 12);
            assert.ok(listed.servers.every((s: { healthy: boolean }) => s.healthy));
          },
        );

        await t.step(
          "POP3 goes to the server's default upstream when the reply names no server",
          async () => {
            const r = await python(
              "import poplib, sys\np = poplib.POP3('127.0.0.1', int(sys.argv[1]), timeout=15)\n" +
                "p.user('user1'); p.pass_(sys.argv[2]); print(p.stat()); p.quit()",
              String(pop3),
              pass("user1"),
            );
            assert.equal(r.code, 0, r.stderr);
            assert.equal(await settled(() => logins(a, "user1", "pop3") + logins(b, "user1", "pop3"), 1), 1);
          },
        );

        const drained = `127.0.0.1:${a.imapPort}`;
        const onA = USERS.map((u) => u.name).filter((n) => home.get(n) === drained);
        await t.step("drain: existing users and sessions stay, new users go elsewhere", async () => {
          const held = await imapLogin(imap, onA[0], pass(onA[0]));
          try {
            const r = await post(proxy, `/upstreams/pool/servers/${encodeURIComponent(drained)}`, {
              state: "drain",
            });
            assert.equal(r.status, 200, JSON.stringify(r.body));
            assert.equal(r.body.server.state, "drain");
            assert.equal(await metric(proxy, /^mailproxy_upstream_server_state\{.*state="drain"/), 1);
            // An existing user of the drained server still goes there.
            const before = await stable(() => logins(a, onA[1] ?? onA[0]));
            assert.equal((await curlImap(imap, onA[1] ?? onA[0])).code, 0);
            assert.equal(await settled(() => logins(a, onA[1] ?? onA[0]), before + 1), before + 1);
            // New users (no sticky route yet: routes removed) never land on it.
            for (const { name } of USERS.filter((u) => !onA.includes(u.name))) {
              await api(proxy, `/routes/${name}`, "DELETE");
              assert.equal((await curlImap(imap, name)).code, 0);
              assert.notEqual((await route(proxy, name)).server, drained);
            }
            assert.match(await command(held, "n1", "NOOP"), /n1 OK/, "the held session still works");
          } finally {
            held.close();
          }
        });

        await t.step("flush: the drained server's sessions end and its users move", async () => {
          const held = await imapLogin(imap, onA[0], pass(onA[0]));
          const r = await post(proxy, `/upstreams/pool/servers/${drained}/flush`);
          assert.equal(r.status, 200, JSON.stringify(r.body));
          assert.equal(r.body.sessions, 1);
          assert.ok(await held.waitClosed(5000), "the flushed session was closed");
          held.close();
          for (const name of onA) {
            assert.notEqual((await route(proxy, name)).server, drained, name);
            const before = await stable(() => logins(b, name));
            assert.equal((await curlImap(imap, name)).code, 0);
            assert.equal(
              await settled(() => logins(b, name), before + 1),
              before + 1,
              `${name} logged in on the other server`,
            );
          }
          const up = await post(proxy, `/upstreams/pool/servers/${drained}`, { state: "up" });
          assert.equal(up.body.server.state, "up");
        });

        await t.step("pin: one user moves, its open session is ended", async () => {
          const user = "user1";
          const current = (await route(proxy, user)).server;
          const target = current === `127.0.0.1:${a.imapPort}`
            ? `127.0.0.1:${b.imapPort}`
            : `127.0.0.1:${a.imapPort}`;
          const held = await imapLogin(imap, user, pass(user));
          const r = await post(proxy, `/routes/${user}`, { server: target }, "PUT");
          assert.equal(r.status, 200, JSON.stringify(r.body));
          assert.deepEqual({ ...r.body }, {
            user,
            upstream: "pool",
            server: target,
            source: "pin",
            kicked: 1,
          });
          assert.ok(await held.waitClosed(5000));
          held.close();
          const pinned = (await api(proxy, `/routes/${user}?upstream=pool`)).body;
          assert.deepEqual(pinned, {
            user,
            upstream: "pool",
            server: target,
            source: "pin",
            routes: [{ upstream: "pool", server: target, source: "pin" }],
          });
          const before = await stable(() => logins(byAddress.get(target)!, user));
          assert.equal((await curlImap(imap, user)).code, 0);
          assert.equal(await settled(() => logins(byAddress.get(target)!, user), before + 1), before + 1);
          const pinLine = new RegExp(
            `client logged in, upstream ${target.replace(/\./g, "\\.")} \\(pool, pin\\)`,
          );
          assert.ok(await waitFor(() => pinLine.test(proxy.logs())), proxy.logs());
          assert.equal((await post(proxy, `/routes/${user}`, undefined, "DELETE")).body.pins_removed, 1);
        });

        await t.step("a backend that rejects the password is not retried", async () => {
          const user = "user2";
          const failovers = await metric(proxy, /^mailproxy_upstream_failovers_total/);
          const r = await python(
            "import imaplib, sys\nm = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]), timeout=15)\n" +
              "try:\n  m.login('user2', 'wrong-password')\nexcept imaplib.IMAP4.error as e:\n  print('refused', e)\n",
            String(imap),
          );
          assert.equal(r.code, 0, r.stderr);
          assert.match(r.stdout, /^refused /);
          assert.ok(await waitFor(() => refusals(a, user) + refusals(b, user) + refusals(c, user) > 0));
          assert.equal(
            refusals(a, user) + refusals(b, user) + refusals(c, user),
            1,
            "exactly one server was asked",
          );
          assert.equal(await metric(proxy, /^mailproxy_upstream_failovers_total/), failovers);
        });

        await t.step(
          "stopping a Dovecot: a racing login fails over, then health moves its users",
          async () => {
            const dead = `127.0.0.1:${b.imapPort}`;
            const victims = USERS.map((u) => u.name).filter((n) => home.get(n) === dead && n !== "user1");
            assert.ok(victims.length > 0);
            for (const n of victims) await api(proxy, `/routes/${n}`, "DELETE");
            assert.equal((await route(proxy, victims[0])).server, dead);
            const stopping = b.stop();
            // Log in the moment the port refuses, before two health checks (1 s apart) can fail.
            assert.ok(await waitFor(async () => !(await canConnect(b.imapPort)), 10_000));
            const raced = await curlImap(imap, victims[0]);
            assert.equal(raced.code, 0, `the racing login failed: ${raced.stderr}`);
            assert.ok(
              await metric(proxy, /^mailproxy_upstream_failovers_total\{.*server="127\.0\.0\.1:\d+"/) >= 1,
            );
            const failoverLine = new RegExp(`server ${dead.replace(/\./g, "\\.")} failed, trying`);
            assert.ok(await waitFor(() => failoverLine.test(proxy.logs())), proxy.logs());
            await stopping;
            // Within the health-check interval (plus its timeout), the server is down everywhere.
            assert.ok(
              await waitFor(async () => {
                const s = (await api(proxy, "/upstreams")).body.upstreams[0].servers;
                return s.find((x: { address: string }) => x.address === dead).healthy === false;
              }, 4000),
              "marked unhealthy",
            );
            assert.equal(
              await metric(proxy, new RegExp(`^mailproxy_upstream_server_up\\{.*server="${dead}"`)),
              0,
            );
            assert.ok(await metric(proxy, /^mailproxy_upstream_health_checks_total\{.*result="failed"/) >= 1);
            const failovers = await metric(proxy, /^mailproxy_upstream_failovers_total/);
            for (const n of victims.slice(1)) {
              assert.equal((await route(proxy, n)).server, `127.0.0.1:${a.imapPort}`);
              const before = await stable(() => logins(a, n));
              assert.equal((await curlImap(imap, n)).code, 0);
              assert.equal(await settled(() => logins(a, n), before + 1), before + 1);
            }
            assert.equal(
              await metric(proxy, /^mailproxy_upstream_failovers_total/),
              failovers,
              "no failover needed",
            );
            assert.equal(
              [...USERS].reduce((n, u) => n + logins(c, u.name), 0),
              0,
              "the backup is still unused",
            );
          },
        );

        await t.step(
          "SMTP: a silent server and a refusing one fail over to 451 4.3.0, never a 5xx",
          async () => {
            const r = await python(
              "import smtplib, sys\ns = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=15)\ns.ehlo('client')\n" +
                "s.user, s.password = 'user6', sys.argv[2]\n" +
                // One mechanism: smtplib's login() would try the next one on the closed connection.
                "try:\n  s.auth('PLAIN', s.auth_plain)\nexcept smtplib.SMTPException as e:\n  print('refused', e)\n",
              String(smtp),
              pass("user6"),
            );
            assert.equal(r.code, 0, r.stderr);
            assert.match(
              r.stdout,
              /refused \(451, b'4\.3\.0 Backend server unavailable/,
              proxy.logs().split("\n").slice(-25).join("\n"),
            );
            // Both were tried, in hash order: the silent one ran into the pool's 500 ms connect timeout.
            const failover = /upstream smtp_pool server 127\.0\.0\.1:(\d+) failed, trying 127\.0\.0\.1:(\d+)/;
            assert.ok(await waitFor(() => failover.test(proxy.logs())), proxy.logs());
            const [, first, second] = failover.exec(proxy.logs())!;
            assert.deepEqual([first, second].map(Number).sort(), [silent, dead].sort());
            const timedOut = new RegExp(`backend 127\\.0\\.0\\.1:${silent} login failed: upstream timed out`);
            assert.ok(await waitFor(() => timedOut.test(proxy.logs())), proxy.logs());
            assert.ok(
              await metric(proxy, /^mailproxy_upstream_unavailable_total\{.*upstream="smtp_pool"/) >= 1,
            );
          },
        );

        await t.step("backup only when everything else is down; then a temporary failure", async () => {
          await a.stop();
          assert.ok(
            await waitFor(async () => {
              const s = (await api(proxy, "/upstreams")).body.upstreams[0].servers;
              return s.filter((x: { healthy: boolean }) => !x.healthy).length === 2;
            }, 5000),
          );
          assert.equal((await curlImap(imap, "user3")).code, 0);
          assert.equal(await settled(() => logins(c, "user3"), 1), 1, "the backup took the login");
          await c.stop();
          const r = await python(
            "import imaplib, sys\nm = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]), timeout=15)\n" +
              "try:\n  m.login('user4', sys.argv[2])\nexcept imaplib.IMAP4.error as e:\n  print('refused', e)\n",
            String(imap),
            pass("user4"),
          );
          assert.equal(r.code, 0, r.stderr);
          assert.match(r.stdout, /refused .*\[UNAVAILABLE\]/);
          const p = await python(
            "import poplib, sys\np = poplib.POP3('127.0.0.1', int(sys.argv[1]), timeout=15)\n" +
              "p.user('user5')\ntry:\n  p.pass_(sys.argv[2])\nexcept poplib.error_proto as e:\n  print('refused', e)\n",
            String(pop3),
            pass("user5"),
          );
          assert.equal(p.code, 0, p.stderr);
          assert.match(p.stdout, /refused b'-ERR \[SYS\/TEMP\]/);
          assert.ok(await metric(proxy, /^mailproxy_upstream_unavailable_total\{.*upstream="pool"/) >= 1);
        });
      } finally {
        await proxy.stop();
        for (const sock of held) sock.destroy();
        silentServer.close();
        await auth.stop();
        await Promise.all([a.stop(), b.stop(), c.stop()]);
      }
    },
  });
}
