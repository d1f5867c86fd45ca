import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import {
  clientText,
  drain,
  feed,
  feedBytewise,
  type StepRecord,
} from "../../../tests/helpers/frontend_steps.ts";
import { testServerConfig } from "../../../tests/helpers/server_config.ts";
import type { ServerConfig } from "../../config/types.ts";
import { encodeBase64 } from "../../sasl/base64.ts";
import { fromBinary, toBinary } from "../../util/bytes.ts";
import type { FrontendContext } from "../types.ts";
import { Pop3BackendLogin } from "./backend_login.ts";
import { Pop3Frontend } from "./frontend.ts";

const OK = "+OK\r\n";
const ERR = "-ERR invalid command\r\n";
const CAPA = "+OK Capability list follows\r\nTOP\r\nUSER\r\nUIDL\r\nSASL PLAIN LOGIN\r\n.\r\n";
/** The salt for random() = 0.5 and now() = 1 700 000 000 000 ms. */
const SALT = "<1073741824.1700000000@localhost>";

function frontend(overrides: Partial<ServerConfig> = {}, ctx: Partial<FrontendContext> = {}): Pop3Frontend {
  return new Pop3Frontend(testServerConfig({ protocol: "pop3", ...overrides }), {
    secure: false,
    random: () => 0.5,
    now: () => 1_700_000_000_000,
    ...ctx,
  });
}

const send = (data: string): StepRecord => ({ kind: "send", data });
const close = (data: string, reason: string): StepRecord => ({ kind: "close", data, reason });
const auth = (method: string, user: string, pass: string, salt?: string): StepRecord => ({
  kind: "auth",
  credentials: salt === undefined ? { method, user, pass } : { method, user, pass, salt },
} as StepRecord);

Deno.test("pop3 frontend: greeting without and with the APOP salt", () => {
  assert.equal(toBinary(frontend().greeting()), "+OK POP3 ready\r\n");
  assert.equal(toBinary(frontend({ pop3_auth: ["plain", "apop"] }).greeting()), `+OK POP3 ready ${SALT}\r\n`);
  assert.equal(toBinary(frontend({ pop3_auth: ["cram-md5"] }).greeting()), `+OK POP3 ready ${SALT}\r\n`);
  assert.equal(toBinary(frontend().internalError()), "-ERR internal server error\r\n");
});

Deno.test("pop3 frontend: CAPA, NOOP, QUIT", () => {
  const fe = frontend();
  assert.deepEqual(feed(fe, "CAPA\r\n"), [send(CAPA)]);
  assert.deepEqual(feed(fe, "NOOP\r\n"), [send(OK)]);
  assert.deepEqual(feed(fe, "QUIT\r\nNOOP\r\n"), [close(OK, "client quit")]);
  assert.equal(fe.step(), null, "nothing after close");
});

Deno.test("pop3 frontend: USER then PASS asks the auth provider", () => {
  const fe = frontend();
  assert.deepEqual(feed(fe, "USER alice\r\n"), [send(OK)]);
  assert.equal(fe.login, "alice");
  assert.deepEqual(feed(fe, "CAPA\r\nNOOP\r\n"), [send(CAPA), send(OK)], "CAPA and NOOP keep the user state");
  assert.deepEqual(feed(fe, "PASS pass word \r\n"), [auth("plain", "alice", "pass word ")]);
  assert.equal(fe.step(), null, "no reading while the auth provider decides");
});

Deno.test("pop3 frontend: the user state allows only PASS, CAPA, NOOP, QUIT; errors go back to start", () => {
  const fe = frontend();
  assert.deepEqual(feed(fe, "PASS x\r\n"), [send(ERR)], "PASS in the start state");
  assert.deepEqual(feed(fe, "USER alice\r\nUSER bob\r\nPASS x\r\n"), [send(OK), send(ERR), send(ERR)]);
  assert.deepEqual(feed(fe, "USER alice\r\nPASS\r\nPASS x\r\n"), [send(OK), send(ERR), send(ERR)]);
  assert.deepEqual(feed(fe, "USER alice\r\nSTAT\r\nPASS x\r\n"), [send(OK), send(ERR), send(ERR)]);
  assert.deepEqual(feed(fe, "USER alice\r\nQUIT\r\n"), [send(OK), close(OK, "client quit")]);
});

Deno.test("pop3 frontend: USER needs exactly one argument", () => {
  const fe = frontend();
  assert.deepEqual(feed(fe, "USER\r\nUSER  \r\n"), [send(ERR), send(ERR)]);
  assert.deepEqual(feed(fe, "USER a b\r\nPASS c\r\n"), [send(OK), auth("plain", "a b", "c")]);
});

Deno.test("pop3 frontend: APOP when enabled, with the greeting's salt", () => {
  const disabled = frontend();
  assert.deepEqual(feed(disabled, "APOP alice 0123456789abcdef0123456789abcdef\r\n"), [send(ERR)]);

  const fe = frontend({ pop3_auth: ["plain", "apop"] });
  const digest = createHash("md5").update(SALT + "alicepass").digest("hex");
  assert.deepEqual(feed(fe, "APOP alice\r\nAPOP a b c\r\n"), [send(ERR), send(ERR)]);
  assert.deepEqual(feed(fe, `APOP alice ${digest}\r\n`), [auth("apop", "alice", digest, SALT)]);
  assert.equal(fe.login, "alice");
});

Deno.test("pop3 frontend: AUTH without arguments lists the mechanisms", () => {
  assert.deepEqual(feed(frontend(), "AUTH\r\n"), [send("+OK methods supported:\r\nPLAIN\r\nLOGIN\r\n.\r\n")]);
  assert.deepEqual(feed(frontend({ pop3_auth: ["plain", "apop", "cram-md5", "external"] }), "AUTH\r\n"), [
    send("+OK methods supported:\r\nPLAIN\r\nLOGIN\r\nCRAM-MD5\r\nEXTERNAL\r\n.\r\n"),
  ]);
});

Deno.test("pop3 frontend: AUTH PLAIN with an initial response and with a continuation", () => {
  const token = encodeBase64("authz\0alice\0alicepass");
  assert.deepEqual(feed(frontend(), `AUTH PLAIN ${token}\r\n`), [auth("plain", "alice", "alicepass")]);
  const fe = frontend();
  assert.deepEqual(feed(fe, "auth plain\r\n"), [send("+ \r\n")]);
  assert.deepEqual(feed(fe, `${token} ignored\r\n`), [auth("plain", "alice", "alicepass")]);
  assert.equal(fe.login, "alice");
});

Deno.test("pop3 frontend: AUTH LOGIN, bare and with the user name", () => {
  const fe = frontend();
  assert.deepEqual(feed(fe, "AUTH LOGIN\r\n"), [send("+ VXNlcm5hbWU6\r\n")]);
  assert.deepEqual(feed(fe, `${encodeBase64("alice")}\r\n`), [send("+ UGFzc3dvcmQ6\r\n")]);
  assert.equal(fe.login, "alice");
  assert.deepEqual(feed(fe, `${encodeBase64("alicepass")}\r\n`), [auth("plain", "alice", "alicepass")]);

  const ir = frontend();
  assert.deepEqual(feed(ir, `AUTH LOGIN ${encodeBase64("bob")}\r\n`), [send("+ UGFzc3dvcmQ6\r\n")]);
  assert.deepEqual(feed(ir, "\r\n"), [auth("plain", "bob", "")], "an empty password is a password");
});

Deno.test("pop3 frontend: AUTH CRAM-MD5 uses the greeting's salt", () => {
  assert.deepEqual(feed(frontend(), "AUTH CRAM-MD5\r\n"), [send(ERR)], "not enabled");
  const fe = frontend({ pop3_auth: ["plain", "cram-md5"] });
  assert.deepEqual(feed(fe, "AUTH CRAM-MD5\r\n"), [send(`+ ${encodeBase64(SALT)}\r\n`)]);
  const digest = createHmac("md5", "alicepass").update(SALT).digest("hex");
  assert.deepEqual(feed(fe, `${encodeBase64(`alice ${digest}`)}\r\n`), [
    auth("cram-md5", "alice", digest, SALT),
  ]);
});

Deno.test("pop3 frontend: AUTH EXTERNAL only when enabled", () => {
  assert.deepEqual(feed(frontend(), "AUTH EXTERNAL\r\n"), [send(ERR)]);
  const fe = frontend({ pop3_auth: ["external"] });
  assert.deepEqual(feed(fe, "AUTH EXTERNAL\r\n"), [send("+ VXNlcm5hbWU6\r\n")]);
  assert.deepEqual(feed(fe, `${encodeBase64("alice")}\r\n`), [auth("external", "alice", "")]);
  assert.deepEqual(feed(frontend({ pop3_auth: ["external"] }), `AUTH EXTERNAL ${encodeBase64("bob")}\r\n`), [
    auth("external", "bob", ""),
  ]);
});

Deno.test("pop3 frontend: SASL errors get the invalid reply and go back to the start state", () => {
  const fe = frontend();
  assert.deepEqual(feed(fe, "AUTH XOAUTH2 abc\r\nAUTH PLAIN !!!!\r\nAUTH PLAIN a b\r\n"), [
    send(ERR),
    send(ERR),
    send(ERR),
  ]);
  assert.deepEqual(feed(fe, "AUTH PLAIN\r\n*\r\nNOOP\r\n"), [send("+ \r\n"), send(ERR), send(OK)]);
  assert.deepEqual(feed(fe, `AUTH PLAIN\r\n${encodeBase64("no nul")}\r\nNOOP\r\n`), [
    send("+ \r\n"),
    send(ERR),
    send(OK),
  ]);
  assert.deepEqual(feed(fe, "AUTH LOGIN\r\n!!\r\nNOOP\r\n"), [
    send("+ VXNlcm5hbWU6\r\n"),
    send(ERR),
    send(OK),
  ]);
});

Deno.test("pop3 frontend: CR, LF or NUL in credentials never reach the auth server (divergence)", () => {
  for (
    const line of [
      `AUTH PLAIN ${encodeBase64("\0alice\0pass\r\nDELE 1")}`,
      `AUTH PLAIN ${encodeBase64("\0alice\r\nDELE 1\0pass")}`,
      `AUTH LOGIN ${encodeBase64("alice\nx")}`,
      "USER alice\0admin",
    ]
  ) {
    assert.deepEqual(feed(frontend(), line + "\r\n"), [send(ERR)], line);
  }
  const user = frontend();
  assert.deepEqual(feed(user, "USER alice\r\nPASS a\0b\r\n"), [send(OK), send(ERR)]);
  const apop = frontend({ pop3_auth: ["apop"] });
  assert.deepEqual(feed(apop, "APOP alice d\0igest\r\n"), [send(ERR)]);
});

Deno.test("pop3 frontend: max_errors counts parser errors only", () => {
  const fe = frontend({ max_errors: 3 });
  // Rejections decided after parsing do not count.
  assert.deepEqual(feed(fe, "PASS x\r\nUSER\r\nAUTH FOO\r\nSTLS\r\nAPOP a b\r\n"), Array(5).fill(send(ERR)));
  assert.deepEqual(feed(fe, "STAT\r\nLIST\r\n"), [send(ERR), send(ERR)]);
  assert.deepEqual(feed(fe, "RETR 1\r\nNOOP\r\n"), [close(ERR, "client sent too many invalid commands")]);
  assert.equal(fe.step(), null);
});

Deno.test("pop3 frontend: a parse error inside a SASL exchange counts and resets", () => {
  const fe = frontend({ max_errors: 2 });
  assert.deepEqual(feed(fe, "AUTH PLAIN\r\na b c d\r\nNOOP\r\n"), [send("+ \r\n"), send(ERR), send(OK)]);
  assert.deepEqual(feed(fe, "XXXX\r\n"), [close(ERR, "client sent too many invalid commands")]);
});

Deno.test("pop3 frontend: too long line → invalid reply and close (pop3_client_buffer)", () => {
  const fe = frontend({ pop3_client_buffer: 64 });
  assert.deepEqual(feed(fe, "NOOP\r\n"), [send(OK)]);
  assert.deepEqual(feed(fe, "USER " + "x".repeat(100)), [close(ERR, "client sent too long command")]);
  assert.deepEqual(feed(fe, "\r\nNOOP\r\n"), []);
});

Deno.test("pop3 frontend: the default buffer takes a 4 KiB SASL token (nginx: 128 bytes)", () => {
  const token = encodeBase64("\0alice\0" + "t".repeat(4096));
  assert.ok(token.length > 5000);
  assert.deepEqual(feed(frontend(), `AUTH PLAIN ${token}\r\n`), [auth("plain", "alice", "t".repeat(4096))]);
  const fe = frontend();
  assert.deepEqual(feed(fe, "AUTH PLAIN\r\n", `${token}\r\n`), [
    send("+ \r\n"),
    auth("plain", "alice", "t".repeat(4096)),
  ]);
});

Deno.test("pop3 frontend: pipelined commands; bytes after the login command are kept for the backend", () => {
  const fe = frontend();
  assert.deepEqual(feed(fe, "CAPA\r\nNOOP\r\nUSER alice\r\nPASS alicepass\r\nSTAT\r\nRETR 1\r\n"), [
    send(CAPA),
    send(OK),
    send(OK),
    auth("plain", "alice", "alicepass"),
  ]);
  assert.equal(toBinary(fe.takePipelined()), "STAT\r\nRETR 1\r\n");
});

Deno.test("pop3 frontend: byte-at-a-time gives the same steps as one chunk", () => {
  const script = "CAPA\r\nSTAT\r\nUSER alice\r\nNOOP\r\nUSER x\r\nAUTH\r\nAUTH LOGIN\r\n" +
    `${encodeBase64("alice")}\r\n${encodeBase64("alicepass")}\r\nSTAT\r\n`;
  const whole = feed(frontend({ pop3_auth: ["plain", "apop"] }), script);
  assert.equal(whole.length, 9);
  assert.deepEqual(feedBytewise(frontend({ pop3_auth: ["plain", "apop"] }), script), whole);
});

Deno.test("pop3 frontend: a refused login closes, or with Auth-Wait returns to the start state", () => {
  const closing = frontend();
  feed(closing, "USER alice\r\nPASS wrong\r\n");
  assert.deepEqual(closing.authFailed({ status: "fail", message: "Invalid login or password", wait: 0 }), {
    kind: "close",
    data: fromBinary("-ERR Invalid login or password\r\n"),
    reason: "client login failed",
  });
  assert.equal(closing.step(), null);

  const retry = frontend();
  assert.deepEqual(
    feed(retry, `AUTH PLAIN ${encodeBase64("\0alice\0wrong")}\r\nUSER alice\r\nPASS alicepass\r\n`),
    [
      auth("plain", "alice", "wrong"),
    ],
  );
  const reply = retry.authFailed({ status: "fail", message: "Temporary\r\nfailure", wait: 2 });
  assert.deepEqual(reply, { kind: "send", data: fromBinary("-ERR Temporary failure\r\n") });
  // The commands that were pipelined behind the failed attempt are read as commands.
  assert.deepEqual(drain(retry), [send(OK), auth("plain", "alice", "alicepass")]);
});

Deno.test("pop3 frontend: STLS under starttls off/on/only, CAPA variants, after TLS", () => {
  assert.deepEqual(feed(frontend(), "STLS\r\n"), [send(ERR)]);

  const on = frontend({ starttls: "on" });
  assert.deepEqual(feed(on, "CAPA\r\n"), [send(CAPA.replace(".\r\n", "STLS\r\n.\r\n"))]);
  assert.deepEqual(feed(on, "STLS\r\nUSER injected\r\n"), [{ kind: "starttls", data: OK }]);
  assert.equal(on.step(), null, "bytes pipelined behind STLS are dropped");
  on.tlsEstablished();
  assert.deepEqual(feed(on, "CAPA\r\nSTLS\r\n"), [send(CAPA), send(ERR)]);

  const only = frontend({ starttls: "only" });
  assert.deepEqual(feed(only, "CAPA\r\n"), [
    send("+OK Capability list follows\r\nTOP\r\nUIDL\r\nSTLS\r\n.\r\n"),
  ]);
  assert.deepEqual(
    feed(only, `USER alice\r\nAPOP a b\r\nAUTH\r\nAUTH PLAIN ${encodeBase64("\0a\0b")}\r\n`),
    Array(4).fill(send(ERR)),
  );
  assert.deepEqual(feed(only, "STLS\r\n"), [{ kind: "starttls", data: OK }]);
  only.tlsEstablished();
  assert.deepEqual(feed(only, "USER alice\r\nCAPA\r\nPASS p\r\n"), [
    send(OK),
    send(CAPA),
    auth("plain", "alice", "p"),
  ]);

  // In the USER state CAPA always shows the plain list.
  const userOn = frontend({ starttls: "on" });
  assert.deepEqual(feed(userOn, "USER a\r\nCAPA\r\n"), [send(OK), send(CAPA)]);

  // Implicit TLS: the plain list, no STLS.
  const implicit = frontend({ starttls: "only" }, { secure: true });
  assert.deepEqual(feed(implicit, "CAPA\r\nSTLS\r\n"), [send(CAPA), send(ERR)]);
});

Deno.test("pop3 frontend: the backend login uses Auth-User for the login name", () => {
  const fe = frontend();
  feed(fe, "USER alice\r\nPASS p\r\n");
  const login = fe.backendLogin({ status: "ok", server: "127.0.0.1", port: 110, user: "alice@example.com" }, {
    method: "plain",
    user: "alice",
    pass: "p",
  });
  assert.ok(login instanceof Pop3BackendLogin);
  assert.equal(fe.login, "alice@example.com");
});

Deno.test("pop3 frontend: capability text is sent as UTF-8", () => {
  const fe = frontend({ pop3_capabilities: ["IMPLEMENTATION Grüße"] });
  assert.equal(clientText(feed(fe, "CAPA\r\n")).split("\r\n")[1], "IMPLEMENTATION Gr\xc3\xbc\xc3\x9fe");
});
