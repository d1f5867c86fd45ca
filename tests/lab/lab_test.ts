/**
 * Proves the loopback lab works with real clients: Dovecot via Python imaplib/poplib/LMTP and
 * curl, the auth service via raw HTTP/1.0, and nginx's mail proxy in front of Dovecot.
 * @module
 */

import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { createConnection } from "node:net";
import {
  type AuthService,
  canConnect,
  type Dovecot,
  freePort,
  type Nginx,
  startAuthService,
  startDovecot,
  startNginxMail,
  waitForPort,
} from "./mod.ts";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command asynchronously (never *Sync: the auth service lives in this process). */
async function run(cmd: string, args: string[]): Promise<Run> {
  const out = await new Deno.Command(cmd, { args, stdin: "null", stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Runs a Python 3 snippet; `sys.argv[1:]` are `args`. */
function python(code: string, ...args: (string | number)[]): Promise<Run> {
  return run("python3", ["-c", code, ...args.map(String)]);
}

async function stopAll(...things: ({ stop(): Promise<void> } | undefined)[]): Promise<void> {
  await Promise.all(things.map((t) => t?.stop()));
}

const IMAP_FETCH = `
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
typ, data = m.login(sys.argv[2], sys.argv[3])
print("LOGIN", typ)
typ, data = m.select("INBOX")
print("EXISTS", data[0].decode())
typ, data = m.fetch("1", "(BODY[])")
print("FETCH", typ)
sys.stdout.write(data[0][1].decode())
m.logout()
`;

Deno.test("ports: freePort gives a bindable port, waitForPort waits and times out", async () => {
  const port = await freePort();
  assert.ok(port > 1024 && port < 65536);
  assert.equal(await canConnect(port), false);
  await assert.rejects(waitForPort(port, 150), /nothing accepted/);
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  try {
    await waitForPort(port, 1000);
  } finally {
    listener.close();
  }
});

Deno.test("dovecot: imaplib LOGIN, curl AUTHENTICATE PLAIN, addMessage then FETCH", async () => {
  let dovecot: Dovecot | undefined;
  try {
    dovecot = await startDovecot();
    assert.ok(dovecot.imapPort !== dovecot.pop3Port && dovecot.pop3Port !== dovecot.lmtpPort);
    assert.equal(dovecot.maildir("alice"), `${dovecot.dir}/mail/alice/Maildir`);
    const subject = `lab-${crypto.randomUUID()}`;
    dovecot.addMessage(
      "alice",
      `From: bob@example.test\r\nSubject: ${subject}\r\n\r\nHello from the lab.\r\n`,
    );
    assert.equal([...Deno.readDirSync(`${dovecot.maildir("alice")}/new`)].length, 1);

    const py = await python(IMAP_FETCH, dovecot.imapPort, "alice", "alicepass");
    assert.equal(py.code, 0, py.stderr);
    assert.match(py.stdout, /^LOGIN OK$/m);
    assert.match(py.stdout, /^EXISTS 1$/m);
    assert.match(py.stdout, new RegExp(`^Subject: ${subject}\\r?$`, "m"));
    assert.match(py.stdout, /Hello from the lab\./);

    const bad = await python(IMAP_FETCH, dovecot.imapPort, "alice", "wrong");
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /AUTHENTICATIONFAILED/);

    const curl = await run("curl", [
      "-sS",
      "--max-time",
      "10",
      `imap://127.0.0.1:${dovecot.imapPort}/INBOX;UID=1`,
      "--user",
      "alice:alicepass",
    ]);
    assert.equal(curl.code, 0, curl.stderr);
    assert.match(curl.stdout, new RegExp(`Subject: ${subject}`));
    assert.match(curl.stdout, /Hello from the lab\./);
    assert.match(dovecot.log(), /imap-login: Info: Login: user=<alice>, method=PLAIN/);
  } finally {
    await stopAll(dovecot);
  }
});

Deno.test("dovecot: POP3 login and LMTP delivery, two instances at once", async () => {
  let a: Dovecot | undefined;
  let b: Dovecot | undefined;
  try {
    [a, b] = await Promise.all([
      startDovecot(),
      startDovecot({ users: [{ name: "carol", password: "c4rol" }] }),
    ]);
    assert.notEqual(a.dir, b.dir);
    assert.equal(new Set([a.imapPort, a.pop3Port, a.lmtpPort, b.imapPort, b.pop3Port, b.lmtpPort]).size, 6);

    const lmtp = await python(
      `
import smtplib, sys
l = smtplib.LMTP("127.0.0.1", int(sys.argv[1]))
print("REFUSED", l.sendmail("x@example.test", ["bob@example.test", "nobody@example.test"],
  "Subject: via-lmtp\\r\\n\\r\\nlmtp body\\r\\n"))
l.quit()
`,
      a.lmtpPort,
    );
    assert.equal(lmtp.code, 0, lmtp.stderr);
    assert.match(lmtp.stdout, /REFUSED \{'nobody@example\.test': \(550,/);

    const pop = await python(
      `
import poplib, sys
p = poplib.POP3("127.0.0.1", int(sys.argv[1]))
print(p.user(sys.argv[2]).decode()); print(p.pass_(sys.argv[3]).decode())
print("STAT", p.stat())
print(b"\\n".join(p.retr(1)[1]).decode())
p.quit()
`,
      a.pop3Port,
      "bob",
      "bobpass",
    );
    assert.equal(pop.code, 0, pop.stderr);
    assert.match(pop.stdout, /^STAT \(1, \d+\)$/m);
    assert.match(pop.stdout, /^Subject: via-lmtp$/m);
    assert.match(pop.stdout, /^lmtp body$/m);

    // The second instance has only carol: alice is unknown there, carol works.
    const carol = await python(
      IMAP_FETCH.replace(/typ, data = m\.select[\s\S]*/, "m.logout()\n"),
      b.imapPort,
      "carol",
      "c4rol",
    );
    assert.equal(carol.code, 0, carol.stderr);
    assert.match(carol.stdout, /^LOGIN OK$/m);
    const alice = await python(IMAP_FETCH, b.imapPort, "alice", "alicepass");
    assert.notEqual(alice.code, 0);
  } finally {
    await stopAll(a, b);
  }
});

Deno.test("dovecot: a bad config fails fast with Dovecot's own error", async () => {
  await assert.rejects(
    startDovecot({ extraConfig: "no_such_setting = 1" }),
    /Unknown setting: no_such_setting/,
  );
});

/** Sends one raw HTTP/1.0 request to the auth service and returns the whole response. */
function rawHttp(port: number, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    let data = "";
    socket.on("connect", () => socket.write(head, "latin1"));
    socket.on("data", (chunk) => data += chunk.toString("latin1"));
    socket.on("end", () => {
      socket.destroy();
      resolve(data);
    });
    socket.on("error", reject);
  });
}

function authRequest(fields: Record<string, string>): string {
  let head = "GET /auth HTTP/1.0\r\nHost: 127.0.0.1\r\n";
  for (const [name, value] of Object.entries(fields)) head += `${name}: ${value}\r\n`;
  return head + "\r\n";
}

function replyHeaders(response: string): Record<string, string> {
  const [status, ...lines] = response.split("\r\n\r\n")[0].split("\r\n");
  assert.equal(status, "HTTP/1.0 200 OK");
  return Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 2)]));
}

Deno.test("auth service: default replies, special users, recording and scripts", async () => {
  let auth: AuthService | undefined;
  try {
    auth = await startAuthService({
      backends: { imap: { host: "127.0.0.1", port: 1143 }, pop3: { host: "127.0.0.1", port: 1110 } },
      users: { alice: "alicepass", "sp ace": "p%ss w" },
    });
    assert.equal(auth.url, `http://127.0.0.1:${auth.port}/auth`);
    const ask = async (fields: Record<string, string>) =>
      replyHeaders(await rawHttp(auth!.port, authRequest({ "Auth-Protocol": "imap", ...fields })));

    const okHead = authRequest({
      "Auth-Method": "plain",
      "Auth-User": "alice",
      "Auth-Pass": "alicepass",
      "Auth-Protocol": "imap",
      "Auth-Login-Attempt": "1",
      "Client-IP": "127.0.0.1",
    });
    const ok = replyHeaders(await rawHttp(auth.port, okHead));
    assert.deepEqual(ok, {
      "Auth-Status": "OK",
      "Auth-Server": "127.0.0.1",
      "Auth-Port": "1143",
      "Content-Length": "0",
      Connection: "close",
    });
    assert.equal(auth.rawRequests[0], okHead);
    assert.deepEqual(auth.headerPairs[0].map(([n]) => n), [
      "Host",
      "Auth-Method",
      "Auth-User",
      "Auth-Pass",
      "Auth-Protocol",
      "Auth-Login-Attempt",
      "Client-IP",
    ]);
    assert.equal(auth.requests[0]["Auth-User"], "alice");

    const wrong = await ask({ "Auth-Method": "plain", "Auth-User": "alice", "Auth-Pass": "nope" });
    assert.equal(wrong["Auth-Status"], "Invalid login or password");
    assert.equal(wrong["Auth-Wait"], "0");
    // %XX-escaped credentials (§3.2) are decoded before the check; recorded values stay raw.
    const escaped = await ask({ "Auth-Method": "plain", "Auth-User": "sp%20ace", "Auth-Pass": "p%25ss%20w" });
    assert.equal(escaped["Auth-Status"], "OK");
    assert.equal(auth.requests.at(-1)!["Auth-Pass"], "p%25ss%20w");
    const noBackend = await ask({
      "Auth-Method": "plain",
      "Auth-User": "alice",
      "Auth-Pass": "alicepass",
      "Auth-Protocol": "smtp",
    });
    assert.match(noBackend["Auth-Status"], /No backend/);

    const salt = "<1896.697170952@mx.test>";
    const cram = await ask({
      "Auth-Method": "cram-md5",
      "Auth-User": "alice",
      "Auth-Pass": createHmac("md5", "alicepass").update(salt).digest("hex"),
      "Auth-Salt": salt,
    });
    assert.equal(cram["Auth-Status"], "OK");
    assert.equal(cram["Auth-Pass"], "alicepass");
    const badCram = await ask({
      "Auth-Method": "cram-md5",
      "Auth-User": "alice",
      "Auth-Pass": "0".repeat(32),
      "Auth-Salt": salt,
    });
    assert.equal(badCram["Auth-Status"], "Invalid login or password");
    const apop = await ask({
      "Auth-Method": "apop",
      "Auth-User": "alice",
      "Auth-Pass": createHash("md5").update(salt + "alicepass").digest("hex"),
      "Auth-Salt": salt,
      "Auth-Protocol": "pop3",
    });
    assert.deepEqual([apop["Auth-Status"], apop["Auth-Port"], apop["Auth-Pass"]], [
      "OK",
      "1110",
      "alicepass",
    ]);
    const external = await ask({ "Auth-Method": "external", "Auth-User": "alice", "Auth-Pass": "" });
    assert.deepEqual([external["Auth-Status"], external["Auth-Pass"]], ["OK", "alicepass"]);

    const wait1 = await ask({
      "Auth-Method": "plain",
      "Auth-User": "waituser",
      "Auth-Pass": "waitpass",
      "Client-IP": "127.0.0.9",
    });
    assert.deepEqual([wait1["Auth-Status"], wait1["Auth-Wait"]], ["WAIT", "1"]);
    const wait2 = await ask({
      "Auth-Method": "plain",
      "Auth-User": "waituser",
      "Auth-Pass": "waitpass",
      "Client-IP": "127.0.0.9",
    });
    assert.equal(wait2["Auth-Status"], "OK");
    const slow = await ask({ "Auth-Method": "plain", "Auth-User": "slowfail", "Auth-Pass": "x" });
    assert.deepEqual([slow["Auth-Status"], slow["Auth-Wait"]], ["Temporary failure", "1"]);
    const down = await ask({ "Auth-Method": "plain", "Auth-User": "down", "Auth-Pass": "x" });
    assert.deepEqual([down["Auth-Status"], down["Auth-Port"]], ["OK", String(auth.deadPort)]);
    assert.equal(await canConnect(auth.deadPort), false);
    const renamed = await ask({ "Auth-Method": "plain", "Auth-User": "renamed", "Auth-Pass": "renamedpass" });
    assert.deepEqual([renamed["Auth-Status"], renamed["Auth-User"], renamed["Auth-Pass"]], [
      "OK",
      "alice",
      "alicepass",
    ]);

    auth.script((h) =>
      h["Auth-User"] === "scripted" ? { "Auth-Status": "Go away", "Auth-Wait": "3" } : undefined
    );
    assert.deepEqual(await ask({ "Auth-Method": "plain", "Auth-User": "scripted", "Auth-Pass": "" }), {
      "Auth-Status": "Go away",
      "Auth-Wait": "3",
      "Content-Length": "0",
      Connection: "close",
    });
    assert.equal(
      (await ask({ "Auth-Method": "plain", "Auth-User": "alice", "Auth-Pass": "alicepass" }))["Auth-Status"],
      "OK",
    );
    auth.script(() => "Auth-Status: OK\r\nBad Header: x\r\n\r\n");
    assert.equal(await rawHttp(auth.port, okHead), "Auth-Status: OK\r\nBad Header: x\r\n\r\n");
    auth.script(undefined);
    assert.equal(
      (await ask({ "Auth-Method": "plain", "Auth-User": "scripted", "Auth-Pass": "" }))["Auth-Status"],
      "Invalid login or password",
    );
    const before = auth.requests.length;
    void rawHttp(auth.port, okHead);
    await auth.waitForRequests(before + 1, 2000);
  } finally {
    await stopAll(auth);
  }
});

/** The request header names of §3.1 for an IMAP login without salt, TLS or PROXY protocol. */
const IMAP_PLAIN_ORDER = [
  "Host",
  "Auth-Method",
  "Auth-User",
  "Auth-Pass",
  "Auth-Protocol",
  "Auth-Login-Attempt",
  "Client-IP",
];

Deno.test("nginx mail in front of Dovecot: curl and imaplib through nginx, auth_http headers and order", async () => {
  let dovecot: Dovecot | undefined;
  let auth: AuthService | undefined;
  let nginx: Nginx | undefined;
  try {
    dovecot = await startDovecot();
    auth = await startAuthService({
      backends: {
        imap: { host: "127.0.0.1", port: dovecot.imapPort },
        pop3: { host: "127.0.0.1", port: dovecot.pop3Port },
      },
    });
    nginx = await startNginxMail({
      authHttp: auth.url,
      mailLevel: "server_name mx.test;",
      servers: `
  server { listen 127.0.0.1:{{port:imap}}; protocol imap; }
  server { listen 127.0.0.1:{{port:pop3}}; protocol pop3; pop3_auth plain apop; }
`,
    });
    const imapPort = nginx.ports.imap;
    assert.ok(imapPort > 0 && nginx.ports.pop3 > 0);
    const subject = `via-nginx-${crypto.randomUUID()}`;
    dovecot.addMessage("alice", `Subject: ${subject}\r\n\r\nproxied body\r\n`);

    const curl = await run("curl", [
      "-sS",
      "--max-time",
      "10",
      `imap://127.0.0.1:${imapPort}/INBOX;UID=1`,
      "--user",
      "alice:alicepass",
    ]);
    assert.equal(curl.code, 0, curl.stderr);
    assert.match(curl.stdout, new RegExp(`Subject: ${subject}`));
    assert.match(curl.stdout, /proxied body/);

    assert.equal(auth.requests.length, 1);
    const h = auth.requests[0];
    assert.equal(h["Auth-Method"], "plain");
    assert.equal(h["Auth-User"], "alice");
    assert.equal(h["Auth-Pass"], "alicepass");
    assert.equal(h["Auth-Protocol"], "imap");
    assert.equal(h["Auth-Login-Attempt"], "1");
    assert.equal(h["Client-IP"], "127.0.0.1");
    assert.equal(h["Host"], "127.0.0.1");
    assert.deepEqual(auth.headerPairs[0].map(([name]) => name), IMAP_PLAIN_ORDER);
    assert.ok(
      auth.rawRequests[0].startsWith("GET /auth HTTP/1.0\r\nHost: 127.0.0.1\r\nAuth-Method: plain\r\n"),
    );
    assert.ok(auth.rawRequests[0].endsWith("\r\nClient-IP: 127.0.0.1\r\n\r\n"));
    assert.match(
      nginx.errorLog(),
      /client logged in, client: 127\.0\.0\.1, server: 127\.0\.0\.1:\d+, login: "alice"/,
    );

    // IMAP LOGIN (imaplib): a wrong password is refused by the auth service, renamed logs in as
    // alice, waituser gets WAIT then OK (a second request with the same attempt number).
    const py = await python(
      `
import imaplib, sys, time
port = int(sys.argv[1])
def login(user, password):
    m = imaplib.IMAP4("127.0.0.1", port)
    t = time.time()
    try:
        typ, _ = m.login(user, password)
        typ2, data = m.select("INBOX")
        print(user, typ, "EXISTS", data[0].decode(), "%.1f" % (time.time() - t))
        m.logout()
    except imaplib.IMAP4.error as e:
        print(user, "NO", e)
login("alice", "wrong")
login("renamed", "renamedpass")
login("waituser", "waitpass")
`,
      imapPort,
    );
    assert.equal(py.code, 0, py.stderr);
    assert.match(py.stdout, /^alice NO .*Invalid login or password/m);
    assert.match(py.stdout, /^renamed OK EXISTS 1 /m);
    const wait = /^waituser OK EXISTS 0 (\d+\.\d)$/m.exec(py.stdout);
    assert.ok(wait, py.stdout);
    assert.ok(Number(wait[1]) >= 0.9, `WAIT should delay about 1 s, took ${wait[1]}`);
    const waits = auth.requests.filter((r) => r["Auth-User"] === "waituser");
    assert.deepEqual(waits.map((r) => r["Auth-Login-Attempt"]), ["1", "1"]);

    // POP3 APOP: Auth-Salt sits between Auth-Pass and Auth-Protocol (§3.1).
    const pop = await python(
      `
import poplib, sys
p = poplib.POP3("127.0.0.1", int(sys.argv[1]))
print(p.getwelcome().decode())
print(p.apop("alice", "alicepass").decode())
print("STAT", p.stat())
p.quit()
`,
      nginx.ports.pop3,
    );
    assert.equal(pop.code, 0, pop.stderr);
    const salt = /<\d+\.\d+@mx\.test>/.exec(pop.stdout)?.[0];
    assert.ok(salt, pop.stdout);
    assert.match(pop.stdout, /^STAT \(1, \d+\)$/m);
    const apop = auth.headerPairs.at(-1)!;
    assert.deepEqual(apop.map(([name]) => name), [
      "Host",
      "Auth-Method",
      "Auth-User",
      "Auth-Pass",
      "Auth-Salt",
      "Auth-Protocol",
      "Auth-Login-Attempt",
      "Client-IP",
    ]);
    assert.deepEqual(Object.fromEntries(apop), {
      Host: "127.0.0.1",
      "Auth-Method": "apop",
      "Auth-User": "alice",
      "Auth-Pass": createHash("md5").update(salt + "alicepass").digest("hex"),
      "Auth-Salt": salt,
      "Auth-Protocol": "pop3",
      "Auth-Login-Attempt": "1",
      "Client-IP": "127.0.0.1",
    });
  } finally {
    await stopAll(nginx, auth, dovecot);
  }
});

Deno.test("nginx: a bad server block fails fast with nginx's own error", async () => {
  await assert.rejects(
    startNginxMail({
      authHttp: "http://127.0.0.1:9/auth",
      servers: "server { listen 127.0.0.1:{{port:x}}; protocol imap; bogus_directive on; }",
    }),
    /unknown directive "bogus_directive"/,
  );
});
