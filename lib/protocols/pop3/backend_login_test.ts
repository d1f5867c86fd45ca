import assert from "node:assert/strict";
import { testServerConfig } from "../../../tests/helpers/server_config.ts";
import type { AuthOk } from "../../auth/types.ts";
import type { ServerConfig } from "../../config/types.ts";
import { fromBinary, toBinary } from "../../util/bytes.ts";
import type { BackendStep } from "../types.ts";
import type { Credentials } from "../../types.ts";
import { Pop3BackendLogin } from "./backend_login.ts";

const OK: AuthOk = { status: "ok", server: "127.0.0.1", port: 110 };
const CREDS: Credentials = { method: "plain", user: "alice", pass: "secret" };
const INTERNAL = "-ERR internal server error\r\n";

type Shown = { kind: "send" | "done"; data: string } | { kind: "fail"; data: string; log: string } | null;

function show(step: BackendStep | null): Shown {
  if (step === null) return null;
  if (step.kind === "send") return { kind: "send", data: toBinary(step.data) };
  if (step.kind === "done") return { kind: "done", data: toBinary(step.toClient) };
  return { kind: "fail", data: toBinary(step.toClient), log: step.log };
}

function login(overrides: Partial<ServerConfig> = {}, ok: AuthOk = OK, creds: Credentials = CREDS) {
  const machine = new Pop3BackendLogin(testServerConfig({ protocol: "pop3", ...overrides }), ok, creds);
  return { machine, rx: (text: string) => show(machine.receive(fromBinary(text))) };
}

/** Feeds `text` one byte at a time; returns the non-null steps. */
function bytewise(machine: Pop3BackendLogin, text: string): Shown[] {
  const out: Shown[] = [];
  for (const ch of text) {
    let step = machine.receive(fromBinary(ch));
    while (step !== null) {
      out.push(show(step));
      step = step.kind === "send" ? machine.receive(new Uint8Array(0)) : null;
    }
  }
  return out;
}

Deno.test("pop3 backend: greeting, USER, PASS; the PASS reply goes to the client", () => {
  const { machine, rx } = login();
  assert.deepEqual(rx("+OK Dovecot ready.\r\n"), { kind: "send", data: "USER alice\r\n" });
  assert.equal(machine.receive(new Uint8Array(0)), null, "the driver's empty receive after a send");
  assert.deepEqual(rx("+OK\r\n"), { kind: "send", data: "PASS secret\r\n" });
  assert.deepEqual(rx("+OK Logged in.\r\n"), { kind: "done", data: "+OK Logged in.\r\n" });
  assert.equal(rx("+OK more\r\n"), null, "nothing after done");
  assert.equal(toBinary(machine.internalError()), INTERNAL);
});

Deno.test("pop3 backend: byte-at-a-time gives the same steps", () => {
  const { machine } = login();
  const steps = [
    ...bytewise(machine, "+OK ready\r\n"),
    ...bytewise(machine, "+OK\r\n"),
    ...bytewise(machine, "+OK Logged in.\r\n"),
  ];
  assert.deepEqual(steps, [
    { kind: "send", data: "USER alice\r\n" },
    { kind: "send", data: "PASS secret\r\n" },
    { kind: "done", data: "+OK Logged in.\r\n" },
  ]);
});

Deno.test("pop3 backend: Auth-User and Auth-Pass replace the client's (APOP/CRAM-MD5 digests never reach the backend)", () => {
  const apop: Credentials = {
    method: "apop",
    user: "alice",
    pass: "0123456789abcdef0123456789abcdef",
    salt: "<1.2@h>",
  };
  const { rx } = login({}, { ...OK, user: "alice@example.com", pass: "plaintext" }, apop);
  assert.deepEqual(rx("+OK\r\n"), { kind: "send", data: "USER alice@example.com\r\n" });
  assert.deepEqual(rx("+OK\r\n"), { kind: "send", data: "PASS plaintext\r\n" });
});

Deno.test("pop3 backend: login and password are sent raw (spaces, 8-bit bytes)", () => {
  const { rx } = login({}, OK, { method: "plain", user: "a b ", pass: "p\xe4ss word" });
  assert.deepEqual(rx("+OK\r\n"), { kind: "send", data: "USER a b \r\n" });
  assert.deepEqual(rx("+OK\r\n"), { kind: "send", data: "PASS p\xe4ss word\r\n" });
});

Deno.test("pop3 backend: an unexpected reply gives the internal error, or the backend's text with proxy_pass_error_message", () => {
  for (
    const [at, replies] of [["greeting", ["-ERR go away\r\n"]], [
      "user name",
      ["+OK\r\n", "-ERR no such user\r\n"],
    ], ["password", ["+OK\r\n", "+OK\r\n", "-ERR [AUTH] Authentication failed.\r\n"]]] as const
  ) {
    const off = login();
    const last = replies[replies.length - 1];
    for (const r of replies.slice(0, -1)) off.rx(r);
    assert.deepEqual(off.rx(last), {
      kind: "fail",
      data: INTERNAL,
      log: `upstream sent invalid response to ${at}: "${last.slice(0, -2)}"`,
    });
    assert.equal(off.rx("+OK\r\n"), null, "dead after a failure");

    // CommuniGate: -ERR after a correct password reaches the client verbatim when asked for.
    const on = login({ proxy_pass_error_message: true });
    for (const r of replies.slice(0, -1)) on.rx(r);
    assert.deepEqual(on.rx(last + "extra\r\n"), {
      kind: "fail",
      data: last + "extra\r\n",
      log: `upstream sent invalid response to ${at}: "${last.slice(0, -2)}"`,
    });
  }
});

Deno.test("pop3 backend: nginx's reply rules (at least 4 bytes ending in CRLF, bounded by proxy_buffer)", () => {
  const { rx } = login();
  assert.equal(rx("+OK"), null);
  assert.equal(rx(" ready"), null, "no CRLF yet");
  assert.deepEqual(rx("\r\n"), { kind: "send", data: "USER alice\r\n" });

  const long = login({ proxy_buffer: 16 });
  assert.equal(long.rx("+OK 0123456789"), null);
  const failed = long.rx("abc");
  assert.equal(failed?.kind, "fail");
  assert.equal(failed?.data, INTERNAL);
  assert.match((failed as { log: string }).log, /^upstream sent too long response line: "\+OK 0123456789ab"/);

  // With pass_error_message on, a too long line still gives the internal error (spec §5.5).
  const longOn = login({ proxy_buffer: 8, proxy_pass_error_message: true });
  assert.equal(longOn.rx("-ERR 0123456789\r\n")?.data, INTERNAL);
});

Deno.test("pop3 backend: bytes after the judged reply are dropped when the next line is sent", () => {
  const { rx } = login();
  assert.deepEqual(rx("+OK ready\r\n+OK stray\r\n"), { kind: "send", data: "USER alice\r\n" });
  assert.deepEqual(rx("+OK\r\n"), { kind: "send", data: "PASS secret\r\n" });
});

Deno.test("pop3 backend: the password never reaches the log", () => {
  const { rx } = login({}, OK, { method: "plain", user: "alice", pass: "hunter2" });
  rx("+OK\r\n");
  rx("+OK\r\n");
  const failed = rx("-ERR bad password hunter2\r\n");
  assert.equal(failed?.kind, "fail");
  assert.ok(!(failed as { log: string }).log.includes("hunter2"));
});

Deno.test("pop3 backend: CR, LF or NUL from Auth-User/Auth-Pass never becomes a backend command", () => {
  for (
    const ok of [{ ...OK, user: "alice\r\nDELE 1" }, { ...OK, pass: "x\nDELE 1" }, { ...OK, pass: "a\x00b" }]
  ) {
    const { rx } = login({}, ok);
    const step = rx("+OK ready\r\n");
    assert.equal(step?.kind, "fail");
    assert.equal(step?.data, INTERNAL);
  }
});
