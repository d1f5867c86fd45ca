import assert from "node:assert/strict";
import { testServerConfig } from "../../../tests/helpers/server_config.ts";
import type { AuthOk } from "../../auth/types.ts";
import type { ServerConfig } from "../../config/types.ts";
import { fromBinary, toBinary } from "../../util/bytes.ts";
import type { BackendStep } from "../types.ts";
import type { Credentials } from "../../types.ts";
import { encodeBase64 } from "../../sasl/mod.ts";
import { ImapBackendLogin } from "./backend_login.ts";

const OK: AuthOk = { status: "ok", server: "127.0.0.1", port: 143 };
const CREDS: Credentials = { method: "plain", user: "user", pass: "secret" };
const INTERNAL = "* BAD internal server error\r\n";
const DOVECOT =
  "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN] Dovecot ready.\r\n";

type Shown = { kind: "send" | "done"; data: string } | { kind: "fail"; data: string; log: string } | null;

function show(step: BackendStep | null): Shown {
  if (step === null) return null;
  if (step.kind === "send") return { kind: "send", data: toBinary(step.data) };
  if (step.kind === "done") return { kind: "done", data: toBinary(step.toClient) };
  return { kind: "fail", data: toBinary(step.toClient), log: step.log };
}

function login(
  overrides: Partial<ServerConfig> = {},
  ok: AuthOk = OK,
  creds: Credentials = CREDS,
  tag = "a1 ",
) {
  const machine = new ImapBackendLogin(testServerConfig(overrides), ok, creds, tag);
  return { machine, rx: (text: string) => show(machine.receive(fromBinary(text))) };
}

Deno.test("imap backend: synchronising literals, like nginx", () => {
  const { machine, rx } = login();
  assert.deepEqual(rx("* OK IMAP4rev1 ready\r\n"), { kind: "send", data: "a1 LOGIN {4}\r\n" });
  assert.equal(machine.receive(new Uint8Array(0)), null, "the driver's empty receive after a send");
  assert.deepEqual(rx("+ OK\r\n"), { kind: "send", data: "user {6}\r\n" });
  assert.deepEqual(rx("+ go ahead\r\n"), { kind: "send", data: "secret\r\n" });
  assert.deepEqual(rx("a1 OK [CAPABILITY IMAP4rev1] Logged in\r\n"), {
    kind: "done",
    data: "a1 OK [CAPABILITY IMAP4rev1] Logged in\r\n",
  });
  assert.equal(rx("* more\r\n"), null, "nothing after done");
  assert.equal(toBinary(machine.internalError()), INTERNAL);
});

Deno.test("imap backend: one untagged line before the tagged OK is relayed with it", () => {
  const { rx } = login();
  rx("* OK ready\r\n");
  rx("+ OK\r\n");
  rx("+ OK\r\n");
  assert.deepEqual(rx("* CAPABILITY IMAP4rev1 IDLE\r\na1 OK Logged in\r\n"), {
    kind: "done",
    data: "* CAPABILITY IMAP4rev1 IDLE\r\na1 OK Logged in\r\n",
  });

  // The same split across chunks: the untagged line alone is not a verdict.
  const split = login();
  split.rx("* OK ready\r\n");
  split.rx("+ OK\r\n");
  split.rx("+ OK\r\n");
  assert.equal(split.rx("* CAPABILITY IMAP4rev1 IDLE\r\n"), null);
  assert.equal(split.rx("a1 O"), null);
  assert.deepEqual(split.rx("K done\r\n"), {
    kind: "done",
    data: "* CAPABILITY IMAP4rev1 IDLE\r\na1 OK done\r\n",
  });

  // A second untagged line fails.
  const two = login({ proxy_pass_error_message: true });
  two.rx("* OK ready\r\n");
  two.rx("+ OK\r\n");
  two.rx("+ OK\r\n");
  const shown = two.rx("* CAPABILITY A\r\n* CAPABILITY B\r\na1 OK\r\n");
  assert.equal(shown?.kind, "fail");
  assert.equal(shown?.data, "* CAPABILITY A\r\n* CAPABILITY B\r\na1 OK\r\n");
});

Deno.test("imap backend: LITERAL+ in the greeting sends the whole LOGIN at once", () => {
  const { rx } = login({}, OK, CREDS, "A7 ");
  assert.deepEqual(rx(DOVECOT), { kind: "send", data: "A7 LOGIN {4+}\r\nuser {6+}\r\nsecret\r\n" });
  assert.deepEqual(rx("* CAPABILITY IMAP4rev1 IDLE\r\nA7 OK Logged in\r\n"), {
    kind: "done",
    data: "* CAPABILITY IMAP4rev1 IDLE\r\nA7 OK Logged in\r\n",
  });
  // Lower case and without LITERAL+: synchronising.
  assert.deepEqual(login().rx("* OK [capability imap4rev1 literal+] hi\r\n"), {
    kind: "send",
    data: "a1 LOGIN {4+}\r\nuser {6+}\r\nsecret\r\n",
  });
  assert.deepEqual(login().rx("* OK [CAPABILITY IMAP4rev1 IDLE] hi\r\n"), {
    kind: "send",
    data: "a1 LOGIN {4}\r\n",
  });
  assert.deepEqual(login().rx("* OK LITERAL+ outside a capability code\r\n"), {
    kind: "send",
    data: "a1 LOGIN {4}\r\n",
  });
});

Deno.test("imap backend: LITERAL- only for values up to 4096 bytes", () => {
  const greeting = "* OK [CAPABILITY IMAP4rev1 LITERAL-] ready\r\n";
  assert.deepEqual(login().rx(greeting), { kind: "send", data: "a1 LOGIN {4+}\r\nuser {6+}\r\nsecret\r\n" });
  const long = { ...CREDS, pass: "p".repeat(4097) };
  assert.deepEqual(login({}, OK, long).rx(greeting), { kind: "send", data: "a1 LOGIN {4}\r\n" });
});

Deno.test("imap backend: Auth-User and Auth-Pass replace the client's credentials", () => {
  const { rx } = login({}, { ...OK, user: "real@example.com", pass: "backendpw" });
  assert.deepEqual(rx(DOVECOT), {
    kind: "send",
    data: "a1 LOGIN {16+}\r\nreal@example.com {9+}\r\nbackendpw\r\n",
  });
  // Empty Auth-Pass still counts as a password; lengths are byte lengths of binary strings.
  const bin = login({}, { ...OK, pass: "" }, { method: "plain", user: "j\xc3\xb6e", pass: "x" });
  assert.deepEqual(bin.rx("* OK hi\r\n"), { kind: "send", data: "a1 LOGIN {4}\r\n" });
  assert.deepEqual(bin.rx("+ OK\r\n"), { kind: "send", data: "j\xc3\xb6e {0}\r\n" });
});

Deno.test("imap backend: greeting in pieces or with more data behind it", () => {
  const pieces = login();
  assert.equal(pieces.rx("*"), null);
  assert.equal(pieces.rx(" OK"), null);
  assert.equal(pieces.rx(" ready\r"), null);
  assert.deepEqual(pieces.rx("\n"), { kind: "send", data: "a1 LOGIN {4}\r\n" });

  const together = login();
  assert.deepEqual(together.rx("* OK ready\r\n* NOTE extra\r\n"), { kind: "send", data: "a1 LOGIN {4}\r\n" });
  assert.deepEqual(together.rx("+ OK\r\n"), { kind: "send", data: "user {6}\r\n" });
});

Deno.test("imap backend: replies split byte by byte", () => {
  const { rx } = login();
  const replies = ["* OK hi\r\n", "+ OK\r\n", "+ OK\r\n", "a1 OK done\r\n"];
  const results: Shown[] = [];
  for (const reply of replies) {
    for (const ch of reply) {
      const r = rx(ch);
      if (r !== null) results.push(r);
    }
  }
  assert.deepEqual(results, [
    { kind: "send", data: "a1 LOGIN {4}\r\n" },
    { kind: "send", data: "user {6}\r\n" },
    { kind: "send", data: "secret\r\n" },
    { kind: "done", data: "a1 OK done\r\n" },
  ]);
});

Deno.test("imap backend: bad greeting and PREAUTH are rejected", () => {
  for (const greeting of ["* BYE too many connections\r\n", "* PREAUTH welcome\r\n", "+ OK\r\n"]) {
    const off = login().rx(greeting);
    assert.equal(off?.kind, "fail");
    assert.equal(off?.data, INTERNAL);
    assert.match((off as { log: string }).log, /invalid response to greeting/);
    assert.deepEqual(login({ proxy_pass_error_message: true }).rx(greeting)?.data, greeting);
  }
});

Deno.test("imap backend: a NO to the login, with proxy_pass_error_message off and on", () => {
  const no = "a1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n";
  const off = login();
  off.rx("* OK hi\r\n");
  off.rx("+ OK\r\n");
  off.rx("+ OK\r\n");
  const r = off.rx(no);
  assert.deepEqual(r, {
    kind: "fail",
    data: INTERNAL,
    log: 'upstream sent invalid response to password: "a1 NO [AUTHENTICATIONFAILED] Authentication failed."',
  });

  const on = login({ proxy_pass_error_message: true });
  on.rx("* OK hi\r\n");
  on.rx("+ OK\r\n");
  on.rx("+ OK\r\n");
  assert.equal(on.rx(no)?.data, no);

  // No continuation for the literal: the backend text goes to the client (on).
  const refused = login({ proxy_pass_error_message: true });
  refused.rx("* OK hi\r\n");
  assert.deepEqual(refused.rx("a1 BAD literal refused\r\n")?.data, "a1 BAD literal refused\r\n");

  // Another tag is not our OK.
  const other = login();
  other.rx(DOVECOT);
  assert.equal(other.rx("b1 OK\r\n")?.kind, "fail");
});

Deno.test("imap backend: the log never shows the password", () => {
  const { rx } = login({}, OK, { method: "plain", user: "u", pass: "hunter2" });
  rx(DOVECOT);
  const r = rx("a1 NO bad password hunter2\r\n");
  assert.equal(r?.kind, "fail");
  assert.ok(!(r as { log: string }).log.includes("hunter2"), (r as { log: string }).log);
});

Deno.test("imap backend: a reply line longer than proxy_buffer fails with the internal error", () => {
  const { rx } = login({ proxy_buffer: 64, proxy_pass_error_message: true });
  assert.equal(rx("* OK " + "x".repeat(50)), null);
  const r = rx("y".repeat(20) + "\r\n");
  assert.equal(r?.kind, "fail");
  assert.equal(r?.data, INTERNAL);
  assert.match((r as { log: string }).log, /too long response line/);

  // Exactly proxy_buffer bytes ending in CRLF is fine.
  const exact = login({ proxy_buffer: 16 });
  assert.deepEqual(exact.rx("* OK 123456789\r\n"), { kind: "send", data: "a1 LOGIN {4}\r\n" });
});

Deno.test("imap backend: replies shorter than 4 bytes are not judged yet (nginx rule)", () => {
  const { rx } = login();
  rx("* OK hi\r\n");
  assert.equal(rx("+\r\n"), null);
  assert.deepEqual(rx("+\r\n"), { kind: "send", data: "user {6}\r\n" });
});

Deno.test("imap backend: OAuth login replayed with SASL-IR, after +, or refused when not advertised", () => {
  const oauth: Credentials = { method: "xoauth2", user: "u@x", pass: "TOKEN" };
  const ir = encodeBase64("user=u@x\x01auth=Bearer TOKEN\x01\x01");
  const caps = "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=XOAUTH2 AUTH=OAUTHBEARER] ready\r\n";
  const a = login({}, OK, oauth);
  assert.deepEqual(a.rx(caps), { kind: "send", data: `a1 AUTHENTICATE XOAUTH2 ${ir}\r\n` });
  assert.deepEqual(a.rx("a1 OK Logged in\r\n"), { kind: "done", data: "a1 OK Logged in\r\n" });

  const b = login({}, OK, oauth);
  assert.deepEqual(b.rx(caps.replace("SASL-IR ", "")), { kind: "send", data: "a1 AUTHENTICATE XOAUTH2\r\n" });
  assert.deepEqual(b.rx("+ \r\n"), { kind: "send", data: `${ir}\r\n` });
  // A backend error challenge gets the dummy response, then the NO is a failed login.
  assert.deepEqual(b.rx("+ eyJzdGF0dXMiOiI0MDEifQ==\r\n"), { kind: "send", data: "AQ==\r\n" });
  assert.equal(b.rx("a1 NO [AUTHENTICATIONFAILED] failed\r\n")?.kind, "fail");

  const c = login({}, OK, oauth);
  const refused = c.rx(DOVECOT);
  assert.equal(refused?.kind, "fail");
  assert.match(refused?.kind === "fail" ? refused.log : "", /does not advertise AUTH=XOAUTH2/);
  assert.doesNotMatch(refused?.kind === "fail" ? refused.log : "", /TOKEN/);

  // Token swapped by the auth service (Auth-Pass): the usual LOGIN.
  const d = login({}, { ...OK, pass: "backendpw" }, oauth);
  assert.deepEqual(d.rx(DOVECOT), { kind: "send", data: "a1 LOGIN {3+}\r\nu@x {9+}\r\nbackendpw\r\n" });
  // Forced mechanism, even with Auth-Pass; forced plain sends the token as the password.
  const e = login({ proxy_auth_mech: "oauthbearer" }, { ...OK, pass: "T2" }, oauth);
  assert.deepEqual(e.rx(caps), {
    kind: "send",
    data: `a1 AUTHENTICATE OAUTHBEARER ${encodeBase64("n,a=u@x,\x01auth=Bearer T2\x01\x01")}\r\n`,
  });
  const f = login({ proxy_auth_mech: "plain" }, OK, oauth);
  assert.deepEqual(f.rx(DOVECOT), { kind: "send", data: "a1 LOGIN {3+}\r\nu@x {5+}\r\nTOKEN\r\n" });
});
