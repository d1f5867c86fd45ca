import assert from "node:assert/strict";
import { INVALID_LOGIN, StaticAuthProvider, UNSUPPORTED_METHOD } from "./static_provider.ts";
import { hashPassword, verifyPassword } from "./password_hash.ts";
import type { AuthRequest } from "./types.ts";
import type { StaticAuthConfig } from "../config/types.ts";
import { toBinary, utf8 } from "../util/bytes.ts";

async function config(): Promise<StaticAuthConfig> {
  return {
    backend: { imap: { host: "127.0.0.1", port: 143 }, smtp: { host: "127.0.0.1", port: 25 } },
    users: [
      { name: "alice", password: await hashPassword("wonderland"), backend: {} },
      {
        name: "bob",
        password: await hashPassword("builder"),
        backend: { imap: { host: "10.0.0.7", port: 1143 } },
      },
      { name: "jürgen", password: await hashPassword("straße"), backend: {} },
    ],
  };
}

function req(over: Partial<AuthRequest>): AuthRequest {
  return {
    protocol: "imap",
    method: "plain",
    user: "alice",
    pass: "wonderland",
    attempt: 1,
    clientIp: "192.0.2.1",
    clientPort: 1,
    sessionId: "t",
    ...over,
  };
}

const cfg = await config();

Deno.test("static provider: correct password gets the protocol's backend (user override first)", async () => {
  const p = new StaticAuthProvider(cfg, { cache: null });
  assert.deepEqual(await p.authenticate(req({})), { status: "ok", server: "127.0.0.1", port: 143 });
  assert.deepEqual(await p.authenticate(req({ user: "bob", pass: "builder" })), {
    status: "ok",
    server: "10.0.0.7",
    port: 1143,
  });
  assert.deepEqual(await p.authenticate(req({ user: "bob", pass: "builder", protocol: "smtp" })), {
    status: "ok",
    server: "127.0.0.1",
    port: 25,
  });
  // UTF-8 login and password arrive as client bytes.
  assert.equal(
    (await p.authenticate(req({ user: toBinary(utf8("jürgen")), pass: toBinary(utf8("straße")) }))).status,
    "ok",
  );
});

Deno.test("static provider: wrong password and unknown user fail alike, with the failure wait", async () => {
  const p = new StaticAuthProvider(cfg, { cache: null });
  const expected = { status: "fail", message: INVALID_LOGIN, wait: 2 };
  assert.deepEqual(await p.authenticate(req({ pass: "Wonderland" })), expected);
  assert.deepEqual(await p.authenticate(req({ pass: "" })), expected);
  assert.deepEqual(await p.authenticate(req({ user: "mallory", pass: "wonderland" })), expected);
  assert.deepEqual(await p.authenticate(req({ user: "Alice" })), expected);
  const custom = new StaticAuthProvider({ ...cfg, failure_wait: 500 }, { cache: null });
  assert.deepEqual(await custom.authenticate(req({ pass: "x" })), { ...expected, wait: 0.5 });
});

Deno.test("static provider: unknown users cost a scrypt like known ones", async () => {
  // Counted, not timed: every attempt must run exactly one full-cost hash check,
  // whether or not the user exists, so response times do not reveal user names.
  const checked: string[] = [];
  const p = new StaticAuthProvider(cfg, {
    cache: null,
    verify: (plain, phc, opts) => {
      checked.push(phc);
      return verifyPassword(plain, phc, opts);
    },
  });
  assert.equal((await p.authenticate(req({ pass: "nope" }))).status, "fail");
  assert.equal((await p.authenticate(req({ user: "nobody", pass: "nope" }))).status, "fail");
  assert.equal(checked.length, 2);
  assert.ok(checked.every((h) => h.startsWith("$scrypt$ln=14,")), checked.join(" "));
  assert.notEqual(checked[1], cfg.users[0].password, "the unknown user is checked against the dummy hash");
});

Deno.test("static provider: no backend for the protocol is an error for the log", async () => {
  const p = new StaticAuthProvider(cfg, { cache: null });
  assert.deepEqual(await p.authenticate(req({ protocol: "pop3" })), {
    status: "error",
    reason: "static user alice has no pop3 backend",
  });
  // Without the right password nothing about backends is revealed.
  assert.equal((await p.authenticate(req({ protocol: "pop3", pass: "x" }))).status, "fail");
});

Deno.test("static provider: APOP, CRAM-MD5 and EXTERNAL are refused", async () => {
  const p = new StaticAuthProvider(cfg, { cache: null });
  for (const method of ["apop", "cram-md5", "external"] as const) {
    assert.deepEqual(
      await p.authenticate(req({ method, pass: "0123456789abcdef0123456789abcdef", salt: "<1.2@x>" })),
      {
        status: "fail",
        message: UNSUPPORTED_METHOD,
        wait: 2,
      },
    );
  }
});

Deno.test("static provider: SMTP none relays to the smtp backend", async () => {
  const p = new StaticAuthProvider(cfg, { cache: null });
  assert.deepEqual(await p.authenticate(req({ protocol: "smtp", method: "none", user: "", pass: "" })), {
    status: "ok",
    server: "127.0.0.1",
    port: 25,
  });
  const noSmtp = new StaticAuthProvider({ ...cfg, backend: {} }, { cache: null });
  assert.deepEqual(await noSmtp.authenticate(req({ protocol: "smtp", method: "none" })), {
    status: "error",
    reason: "static auth has no smtp backend",
  });
});

Deno.test("static provider: aborted signal gives an error", async () => {
  const p = new StaticAuthProvider(cfg, { cache: null });
  const ac = new AbortController();
  ac.abort();
  assert.equal((await p.authenticate(req({}), ac.signal)).status, "error");
});
