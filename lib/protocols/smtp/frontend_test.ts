import assert from "node:assert/strict";
import {
  clientText,
  feed,
  feedBytewise,
  recordStep,
  type StepRecord,
} from "../../../tests/helpers/frontend_steps.ts";
import { testServerConfig } from "../../../tests/helpers/server_config.ts";
import type { ServerConfig } from "../../config/types.ts";
import { encodeBase64 } from "../../sasl/base64.ts";
import { fromBinary, toBinary } from "../../util/bytes.ts";
import type { FrontendContext } from "../types.ts";
import { SmtpFrontend } from "./frontend.ts";

const INVALID = "500 5.5.1 Invalid command\r\n";
const OK = "250 2.0.0 OK\r\n";

function frontend(overrides: Partial<ServerConfig> = {}, ctx: Partial<FrontendContext> = {}): SmtpFrontend {
  return new SmtpFrontend(testServerConfig({ protocol: "smtp", server_name: "mx.test", ...overrides }), {
    secure: false,
    clientIp: "192.0.2.7",
    random: () => 0.5,
    now: () => 1_700_000_000_000,
    ...ctx,
  });
}

const send = (data: string): StepRecord => ({ kind: "send", data });
const close = (data: string, reason: string): StepRecord => ({ kind: "close", data, reason });
const plain = (user: string, pass: string): StepRecord => ({
  kind: "auth",
  credentials: { method: "plain", user, pass },
});
const none = (helo: string, from: string, to: string): StepRecord => ({
  kind: "auth",
  credentials: { method: "none", user: "", pass: "", smtp: { helo, from, to } },
});
const b64 = (s: string) => encodeBase64(s);

Deno.test("smtp frontend: greeting, pre-greeting plan, client host", () => {
  const fe = frontend({ resolver: ["127.0.0.53"], smtp_greeting_delay: 1500 });
  assert.equal(toBinary(fe.greeting()), "220 mx.test ESMTP ready\r\n");
  assert.deepEqual(fe.preGreeting(), { resolveClientHost: true, delayMs: 1500 });
  assert.deepEqual(frontend().preGreeting(), { resolveClientHost: false, delayMs: 0 });
  assert.equal(fe.clientHost, "[UNAVAILABLE]", "nginx's host while nothing was resolved");
  fe.setClientHost("client.example");
  assert.equal(fe.clientHost, "client.example");
  assert.equal(toBinary(fe.internalError()), "451 4.3.2 Internal server error\r\n");
});

Deno.test("smtp frontend: a client talking before the greeting gets 503 and is dropped", () => {
  const fe = frontend({ smtp_greeting_delay: 1000 });
  const step = fe.earlyInput(fromBinary("EHLO spammer\r\nMAIL FROM:<x>\r\n"));
  assert.equal(step.kind, "close");
  assert.equal(
    toBinary(step.kind === "close" ? step.data! : new Uint8Array()),
    "503 5.5.0 Improper use of SMTP command pipelining\r\n",
  );
  assert.match(
    step.kind === "close" ? step.reason : "",
    /rejected before greeting: "EHLO\.\.\." \(29 bytes\)/,
  );
  // Credentials a client pushes early never reach the log line.
  const auth = fe.earlyInput(fromBinary(`AUTH PLAIN ${b64("\0u\0secret")}\r\n`));
  assert.match(auth.kind === "close" ? auth.reason : "", /"AUTH\.\.\." \(25 bytes\)/);
  const blob = fe.earlyInput(fromBinary(`${b64("\0u\0secret")}\r\n`));
  assert.match(blob.kind === "close" ? blob.reason : "", /"AHUAc\.\.\." \(14 bytes\)/);
  assert.equal(fe.step(), null);
});

Deno.test("smtp frontend: HELO, EHLO, NOOP, RSET, QUIT", () => {
  const fe = frontend();
  assert.deepEqual(feed(fe, "HELO client.example\r\n"), [send("250 mx.test\r\n")]);
  assert.deepEqual(feed(fe, "EHLO client.example\r\n"), [send("250-mx.test\r\n250 AUTH PLAIN LOGIN\r\n")]);
  assert.deepEqual(feed(fe, "HELO\r\n", "EHLO a b\r\n"), [
    send("501 5.5.4 Invalid argument\r\n"),
    send("501 5.5.4 Invalid argument\r\n"),
  ]);
  assert.deepEqual(feed(fe, "NOOP\r\nRSET\r\n"), [send(OK), send(OK)]);
  assert.deepEqual(feed(fe, "QUIT\r\nNOOP\r\n"), [close("221 2.0.0 Bye\r\n", "client quit")]);
  assert.equal(fe.step(), null, "nothing after close");
});

Deno.test("smtp frontend: AUTH PLAIN and LOGIN in initial-response and continuation forms", () => {
  assert.deepEqual(feed(frontend(), `AUTH PLAIN ${b64("authz\0alice\0alicepass")}\r\n`), [
    plain("alice", "alicepass"),
  ]);
  const cont = frontend();
  assert.deepEqual(feed(cont, "AUTH PLAIN\r\n"), [send("334 \r\n")]);
  assert.deepEqual(feed(cont, `${b64("\0alice\0alicepass")}\r\n`), [plain("alice", "alicepass")]);
  assert.equal(cont.login, "alice");

  const login = frontend();
  assert.deepEqual(feed(login, "auth login\r\n"), [send("334 VXNlcm5hbWU6\r\n")]);
  assert.deepEqual(feed(login, `${b64("bob")}\r\n`), [send("334 UGFzc3dvcmQ6\r\n")]);
  assert.deepEqual(feed(login, `${b64("bob pass")}\r\n`), [plain("bob", "bob pass")]);

  const initial = frontend();
  assert.deepEqual(feed(initial, `AUTH LOGIN ${b64("bob")}\r\n`), [send("334 UGFzc3dvcmQ6\r\n")]);
  assert.deepEqual(feed(initial, `${b64("pw")}\r\n`), [plain("bob", "pw")]);
  // Byte-wise delivery gives the same steps.
  assert.deepEqual(feedBytewise(frontend(), `AUTH PLAIN ${b64("\0a\0b")}\r\n`), [plain("a", "b")]);
});

Deno.test("smtp frontend: AUTH errors answer 500 without counting; AUTH without argument 501", () => {
  const fe = frontend({ max_errors: 1 });
  const steps = feed(
    fe,
    "AUTH\r\n",
    "AUTH XOAUTH2 abc\r\n",
    "AUTH CRAM-MD5\r\n",
    "AUTH EXTERNAL\r\n",
    "AUTH PLAIN !!!!\r\n",
    "AUTH PLAIN a b\r\n",
    `AUTH PLAIN ${b64("nonul")}\r\n`,
    "AUTH LOGIN\r\n",
    "*\r\n",
    "VRFY bob\r\nEXPN list\r\nHELP\r\n",
    `AUTH PLAIN ${b64("\0a\rb\0c")}\r\n`,
  );
  assert.deepEqual(steps, [
    send("501 5.5.4 Invalid argument\r\n"),
    send(INVALID),
    send(INVALID),
    send(INVALID),
    send(INVALID),
    send(INVALID),
    send(INVALID),
    send("334 VXNlcm5hbWU6\r\n"),
    send(INVALID),
    send(INVALID),
    send(INVALID),
    send(INVALID),
    send(INVALID),
  ]);
  // Still open although max_errors is 1: none of these was a parser error.
  assert.deepEqual(feed(fe, "NOOP\r\n"), [send(OK)]);
});

Deno.test("smtp frontend: CRAM-MD5 and EXTERNAL when enabled", () => {
  const fe = frontend({ smtp_auth: ["plain", "cram-md5", "external"] });
  const challenge = clientText(feed(fe, "AUTH CRAM-MD5\r\n"));
  const salt = "<1073741824.1700000000@mx.test>";
  assert.equal(challenge, `334 ${b64(salt)}\r\n`);
  const digest = "0123456789abcdef0123456789abcdef";
  assert.deepEqual(feed(fe, `${b64(`carol ${digest}`)}\r\n`), [{
    kind: "auth",
    credentials: { method: "cram-md5", user: "carol", pass: digest, salt },
  }]);
  const ext = frontend({ smtp_auth: ["external"] });
  assert.deepEqual(feed(ext, `AUTH EXTERNAL ${b64("dave")}\r\n`), [{
    kind: "auth",
    credentials: { method: "external", user: "dave", pass: "" },
  }]);
});

Deno.test("smtp frontend: MAIL without smtp_auth none needs authentication", () => {
  const fe = frontend();
  assert.deepEqual(feed(fe, "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n"), [
    send("530 5.7.1 Authentication required\r\n"),
    send("503 5.5.1 Bad sequence of commands\r\n"),
  ]);
});

Deno.test("smtp frontend: smtp_auth none hands MAIL, RCPT and HELO to the auth request", () => {
  const fe = frontend({ smtp_auth: ["none"] });
  const steps = feed(
    fe,
    "RCPT TO:<x@y>\r\n",
    "MAIL\r\n",
    "EHLO client.example\r\n",
    "MAIL FROM:<a@b.example>  SIZE=100\r\n",
    "MAIL FROM:<other@b.example>\r\n",
    "RCPT\r\n",
    "RCPT TO:<c@d.example> NOTIFY=NEVER\r\nDATA\r\n",
  );
  assert.deepEqual(steps, [
    send("503 5.5.1 Bad sequence of commands\r\n"),
    send("501 5.5.4 Invalid argument\r\n"),
    send("250 mx.test\r\n"),
    send(OK),
    send("503 5.5.1 Bad sequence of commands\r\n"),
    send("501 5.5.4 Invalid argument\r\n"),
    none("client.example", "MAIL FROM:<a@b.example>  SIZE=100", "RCPT TO:<c@d.example> NOTIFY=NEVER"),
  ]);
  assert.equal(toBinary(fe.takePipelined()), "DATA\r\n", "pipelined bytes wait for the backend");
});

Deno.test("smtp frontend: RSET and HELO forget the stored MAIL; MAIL forgets a failed AUTH's login", () => {
  const fe = frontend({ smtp_auth: ["plain", "none"] });
  assert.deepEqual(feed(fe, "MAIL FROM:<a@b>\r\nRSET\r\nMAIL FROM:<c@d>\r\nHELO h\r\nRCPT TO:<x@y>\r\n"), [
    send(OK),
    send(OK),
    send(OK),
    send("250 mx.test\r\n"),
    send("503 5.5.1 Bad sequence of commands\r\n"),
  ]);
  assert.deepEqual(feed(fe, `AUTH PLAIN ${b64("\0eve\0guess")}\r\n`), [plain("eve", "guess")]);
  assert.equal(fe.login, "eve");
  assert.deepEqual(
    clientText([recordStep(fe.authFailed({ status: "fail", message: "Nope", wait: 1 }))]),
    "535 5.7.0 Nope\r\n",
  );
  assert.deepEqual(feed(fe, "MAIL FROM:<a@b>\r\n"), [send(OK)]);
  assert.equal(fe.login, undefined);
  assert.deepEqual(feed(fe, "RCPT TO:<x@y>\r\n"), [none("h", "MAIL FROM:<a@b>", "RCPT TO:<x@y>")]);
});

Deno.test("smtp frontend: refused logins: Auth-Error-Code, close without wait, retry with wait", () => {
  const fe = frontend({ smtp_auth: ["none"] });
  feed(fe, "MAIL FROM:<a@b>\r\nRCPT TO:<nobody@here>\r\n");
  const again = fe.authFailed({ status: "fail", message: "No such user", wait: 2, errorCode: "550 5.1.1" });
  assert.deepEqual(again, { kind: "send", data: fromBinary("550 5.1.1 No such user\r\n") });
  // The stored MAIL survives: a new MAIL is a bad sequence, a new RCPT asks again.
  assert.deepEqual(feed(fe, "MAIL FROM:<z@z>\r\nRCPT TO:<ok@here>\r\n"), [
    send("503 5.5.1 Bad sequence of commands\r\n"),
    none("", "MAIL FROM:<a@b>", "RCPT TO:<ok@here>"),
  ]);
  const last = fe.authFailed({ status: "fail", message: "Go away", wait: 0 });
  assert.deepEqual(last, {
    kind: "close",
    data: fromBinary("535 5.7.0 Go away\r\n"),
    reason: "client login failed",
  });
  assert.equal(fe.step(), null);
});

Deno.test("smtp frontend: STARTTLS off, on (pipelined bytes dropped, HELO forgotten), only", () => {
  assert.deepEqual(feed(frontend(), "STARTTLS\r\n"), [send(INVALID)]);
  const on = frontend({ starttls: "on", smtp_auth: ["plain", "none"] });
  assert.deepEqual(feed(on, "EHLO a\r\nMAIL FROM:<a@b>\r\n"), [
    send("250-mx.test\r\n250-AUTH PLAIN\r\n250 STARTTLS\r\n"),
    send(OK),
  ]);
  assert.deepEqual(feed(on, "STARTTLS\r\nAUTH PLAIN injected\r\n"), [{
    kind: "starttls",
    data: "220 2.0.0 Start TLS\r\n",
  }]);
  on.tlsEstablished();
  assert.equal(on.step(), null, "the injected command was dropped");
  assert.deepEqual(feed(on, "STARTTLS\r\nRCPT TO:<x@y>\r\n"), [
    send(INVALID),
    send("503 5.5.1 Bad sequence of commands\r\n"),
  ]);
  assert.deepEqual(feed(on, "EHLO b\r\n"), [send("250-mx.test\r\n250 AUTH PLAIN\r\n")]);

  const only = frontend({ starttls: "only", smtp_auth: ["plain", "none"] });
  assert.deepEqual(feed(only, `AUTH PLAIN ${b64("\0a\0b")}\r\n`), [send(INVALID)]);
  // MAIL/RCPT under `none` are not blocked by `starttls only` (spec §4.4.2).
  assert.deepEqual(feed(only, "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n"), [
    send(OK),
    none("", "MAIL FROM:<a@b>", "RCPT TO:<c@d>"),
  ]);
});

Deno.test("smtp frontend: max_errors counts parser errors only and closes on the last", () => {
  const fe = frontend({ max_errors: 3 });
  assert.deepEqual(feed(fe, "FOO\r\nVRFY x\r\nDATA\r\n\r\n"), [
    send(INVALID),
    send(INVALID),
    send(INVALID),
    close(INVALID, "client sent too many invalid commands"),
  ]);
});

Deno.test("smtp frontend: a too long command is refused and closes", () => {
  const fe = frontend({ smtp_client_buffer: 32 });
  assert.deepEqual(feed(fe, `HELO ${"x".repeat(40)}\r\n`), [close(INVALID, "client sent too long command")]);
});

Deno.test("smtp frontend: commands pipelined after AUTH are kept for the backend", () => {
  const fe = frontend();
  const steps = feed(fe, `EHLO c\r\nAUTH PLAIN ${b64("\0a\0b")}\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n`);
  assert.deepEqual(steps, [send("250-mx.test\r\n250 AUTH PLAIN LOGIN\r\n"), plain("a", "b")]);
  assert.equal(fe.step(), null, "nothing is parsed while the auth request runs");
  assert.equal(toBinary(fe.takePipelined()), "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n");
});

Deno.test("smtp frontend: the backend dialogue gets the client's facts", () => {
  const fe = frontend({ smtp_auth: ["plain"] });
  fe.setClientHost("client.example");
  feed(fe, `EHLO laptop\r\nAUTH PLAIN ${b64("\0alice\0pw")}\r\n`);
  const login = fe.backendLogin({ status: "ok", server: "127.0.0.1", port: 25, user: "alice@example" }, {
    method: "plain",
    user: "alice",
    pass: "pw",
  });
  assert.equal(fe.login, "alice@example", "Auth-User replaces the login");
  const lines: string[] = [];
  for (const reply of ["220 b\r\n", "250 b\r\n", "220 b\r\n"]) {
    const step = login.receive(fromBinary(reply));
    assert.equal(step?.kind, "send");
    lines.push(toBinary(step!.kind === "send" ? step!.data : new Uint8Array()));
  }
  assert.deepEqual(lines, [
    "EHLO mx.test\r\n",
    "XCLIENT ADDR=192.0.2.7 LOGIN=alice@example NAME=client.example\r\n",
    "EHLO laptop\r\n",
  ]);
});
