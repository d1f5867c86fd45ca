import assert from "node:assert/strict";
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
import { ImapFrontend } from "./frontend.ts";

const BAD = "BAD invalid command\r\n";
const CAPS = "* CAPABILITY IMAP4 IMAP4rev1 UIDPLUS AUTH=PLAIN\r\n";

function frontend(overrides: Partial<ServerConfig> = {}, ctx: Partial<FrontendContext> = {}): ImapFrontend {
  return new ImapFrontend(testServerConfig(overrides), {
    secure: false,
    random: () => 0.5,
    now: () => 1_700_000_000_000,
    ...ctx,
  });
}

const send = (data: string): StepRecord => ({ kind: "send", data });
const auth = (method: string, user: string, pass: string, salt?: string): StepRecord => ({
  kind: "auth",
  credentials: salt === undefined ? { method, user, pass } : { method, user, pass, salt },
} as StepRecord);

Deno.test("imap frontend: greeting, NOOP, CAPABILITY, LOGOUT", () => {
  const fe = frontend();
  assert.equal(toBinary(fe.greeting()), "* OK IMAP4 ready\r\n");
  assert.deepEqual(feed(fe, "a1 NOOP\r\n"), [send("a1 OK completed\r\n")]);
  assert.deepEqual(feed(fe, "a2 capability extra args\r\n"), [send(CAPS + "a2 OK completed\r\n")]);
  assert.deepEqual(feed(fe, "a3 LOGOUT\r\na4 NOOP\r\n"), [{
    kind: "close",
    data: "* BYE\r\na3 OK completed\r\n",
    reason: "client logged out",
  }]);
  assert.equal(fe.step(), null, "nothing after close");
  assert.equal(toBinary(fe.internalError()), "* BAD internal server error\r\n");
});

Deno.test("imap frontend: CAPABILITY under starttls off/on/only, imap_auth, and after TLS", () => {
  assert.equal(
    clientText(feed(frontend({ starttls: "on" }), "a CAPABILITY\r\n")),
    "* CAPABILITY IMAP4 IMAP4rev1 UIDPLUS AUTH=PLAIN STARTTLS\r\na OK completed\r\n",
  );
  const only = frontend({ starttls: "only", imap_auth: ["plain", "login"] });
  assert.equal(
    clientText(feed(only, "a CAPABILITY\r\n")),
    "* CAPABILITY IMAP4 IMAP4rev1 UIDPLUS STARTTLS LOGINDISABLED\r\na OK completed\r\n",
  );
  only.tlsEstablished();
  assert.equal(
    clientText(feed(only, "b CAPABILITY\r\n")),
    "* CAPABILITY IMAP4 IMAP4rev1 UIDPLUS AUTH=PLAIN AUTH=LOGIN\r\nb OK completed\r\n",
  );
  const all = frontend({ imap_auth: ["external", "cram-md5", "login", "plain"] });
  assert.equal(
    clientText(feed(all, "c CAPABILITY\r\n")),
    "* CAPABILITY IMAP4 IMAP4rev1 UIDPLUS AUTH=PLAIN AUTH=LOGIN AUTH=CRAM-MD5 AUTH=EXTERNAL\r\nc OK completed\r\n",
  );
  // Implicit TLS: the plain list from the start.
  assert.equal(
    clientText(feed(frontend({ starttls: "only" }, { secure: true }), "d CAPABILITY\r\n")),
    CAPS + "d OK completed\r\n",
  );
});

Deno.test("imap frontend: LOGIN with atoms, quoted strings and literals", () => {
  const atoms = frontend();
  assert.deepEqual(feed(atoms, "a01 LOGIN test@example.com secret\r\n"), [
    auth("plain", "test@example.com", "secret"),
  ]);
  assert.equal(atoms.login, "test@example.com");

  assert.deepEqual(feed(frontend(), 'a01 LOGIN "te\\\\\\"st@example.com" "se\\\\\\"cret"\r\n'), [
    auth("plain", 'te\\"st@example.com', 'se\\"cret'),
  ]);

  assert.deepEqual(feed(frontend(), "a01 LOGIN {18}\r\n", 'te\\"st@example.com {8}\r\n', 'se\\"cret\r\n'), [
    send("+ OK\r\n"),
    send("+ OK\r\n"),
    auth("plain", 'te\\"st@example.com', 'se\\"cret'),
  ]);

  assert.deepEqual(feed(frontend(), 'a01 LOGIN {18+}\r\nte\\"st@example.com {8+}\r\nse\\"cret\r\n'), [
    auth("plain", 'te\\"st@example.com', 'se\\"cret'),
  ]);

  // Empty password allowed, empty user not; wrong argument count rejected.
  assert.deepEqual(feed(frontend(), 'a LOGIN user ""\r\n'), [auth("plain", "user", "")]);
  assert.deepEqual(feed(frontend(), 'a LOGIN "" pass\r\nb LOGIN\r\nc LOGIN a b c\r\n'), [
    send("a " + BAD),
    send("b " + BAD),
    send("c " + BAD),
  ]);
});

Deno.test("imap frontend: pipelined commands in one chunk; bytes after the auth command are held", () => {
  const fe = frontend();
  const steps = feed(
    fe,
    "a NOOP\r\nb INVALID COMMAND WITH ARGUMENTS\r\nc LOGIN u p\r\nd SELECT INBOX\r\ne LOGOUT\r\n",
  );
  assert.deepEqual(steps, [send("a OK completed\r\n"), send("b " + BAD), auth("plain", "u", "p")]);
  assert.equal(fe.step(), null, "no more steps while auth is pending");
  assert.equal(toBinary(fe.takePipelined()), "d SELECT INBOX\r\ne LOGOUT\r\n");
  assert.equal(fe.takePipelined().length, 0);
});

Deno.test("imap frontend: byte-at-a-time input gives the same steps as one chunk", () => {
  const script = [
    "a1 NOOP",
    "a2 CAPABILITY",
    "bad\x01tag",
    "a3 FOO",
    'a4 LOGIN "x" {3}',
    "abc y z",
    "1 AUTHENTICATE LOGIN",
    encodeBase64("joe"),
    "*",
    "2 AUTHENTICATE PLAIN",
    encodeBase64("\0joe\0pw"),
    "tail NOOP",
  ].join("\r\n") + "\r\n";
  const whole = frontend({ max_errors: 10 });
  const bytewise = frontend({ max_errors: 10 });
  const a = feed(whole, script);
  const b = feedBytewise(bytewise, script);
  assert.deepEqual(b, a);
  assert.deepEqual(a.at(-1), auth("plain", "joe", "pw"));
  assert.equal(toBinary(whole.takePipelined()), "tail NOOP\r\n");
  assert.equal(toBinary(bytewise.takePipelined()), "tail NOOP\r\n");
});

Deno.test("imap frontend: AUTHENTICATE PLAIN with initial response and with continuation", () => {
  const ir = frontend();
  assert.deepEqual(feed(ir, `1 AUTHENTICATE PLAIN ${encodeBase64("\0test@example.com\0secret")}\r\n`), [
    auth("plain", "test@example.com", "secret"),
  ]);
  assert.equal(ir.login, "test@example.com");

  const cont = frontend();
  assert.deepEqual(feed(cont, "t7 authenticate plain\r\n"), [send("+ \r\n")]);
  assert.deepEqual(feed(cont, encodeBase64("authz\0u\0p") + "\r\n"), [auth("plain", "u", "p")]);
  // The AUTHENTICATE tag is kept for the NO reply.
  assert.deepEqual(feed(cont), []);
  assert.deepEqual(drainAfterFail(cont, 0), {
    kind: "close",
    data: "t7 NO bad\r\n",
    reason: "client login failed",
  });

  // Decoding errors: tagged BAD, back to the start state.
  const bad = frontend();
  assert.deepEqual(feed(bad, "t8 AUTHENTICATE PLAIN\r\n", "*\r\n", "t9 NOOP\r\n"), [
    send("+ \r\n"),
    send("t8 " + BAD),
    send("t9 OK completed\r\n"),
  ]);
});

function drainAfterFail(fe: ImapFrontend, wait: number): StepRecord {
  const step = fe.authFailed({ status: "fail", message: "bad", wait });
  return step.kind === "close"
    ? { kind: "close", data: toBinary(step.data!), reason: step.reason }
    : { kind: "send", data: toBinary((step as { data: Uint8Array }).data) };
}

Deno.test("imap frontend: AUTHENTICATE LOGIN, with and without initial user name", () => {
  const fe = frontend();
  assert.deepEqual(feed(fe, "1 AUTHENTICATE LOGIN\r\n"), [send("+ VXNlcm5hbWU6\r\n")]);
  assert.deepEqual(feed(fe, encodeBase64("test@example.com") + "\r\n"), [send("+ UGFzc3dvcmQ6\r\n")]);
  assert.equal(fe.login, "test@example.com");
  assert.deepEqual(feed(fe, encodeBase64("secret") + "\r\n"), [auth("plain", "test@example.com", "secret")]);

  const ir = frontend();
  assert.deepEqual(feed(ir, `1 AUTHENTICATE LOGIN ${encodeBase64("joe")}\r\n`, encodeBase64("pw") + "\r\n"), [
    send("+ UGFzc3dvcmQ6\r\n"),
    auth("plain", "joe", "pw"),
  ]);
});

Deno.test("imap frontend: AUTHENTICATE LOGIN errors: tag-less BAD at the user name step (nginx quirk)", () => {
  assert.deepEqual(feed(frontend(), "1 AUTHENTICATE LOGIN\r\n", "!!\r\n", "2 NOOP\r\n"), [
    send("+ VXNlcm5hbWU6\r\n"),
    send(BAD),
    send("2 OK completed\r\n"),
  ]);
  assert.deepEqual(feed(frontend(), "1 AUTHENTICATE LOGIN\r\n", "am9l\r\n", "!!\r\n"), [
    send("+ VXNlcm5hbWU6\r\n"),
    send("+ UGFzc3dvcmQ6\r\n"),
    send("1 " + BAD),
  ]);
  // An initial user name that does not decode: tagged.
  assert.deepEqual(feed(frontend(), "1 AUTHENTICATE LOGIN !!\r\n"), [send("1 " + BAD)]);
  // A parser-level error in a response line is tagged with the AUTHENTICATE tag and counted.
  assert.deepEqual(feed(frontend({ max_errors: 1 }), "1 AUTHENTICATE LOGIN\r\n", "a b c d\r\n"), [
    send("+ VXNlcm5hbWU6\r\n"),
    { kind: "close", data: "1 " + BAD, reason: "client sent too many invalid commands" },
  ]);
});

Deno.test("imap frontend: AUTHENTICATE CRAM-MD5 uses one salt per session", () => {
  let random = 0.5;
  const fe = frontend({ imap_auth: ["plain", "cram-md5"], max_errors: 10 }, { random: () => random });
  const salt = "<1073741824.1700000000@localhost>";
  assert.deepEqual(feed(fe, "1 AUTHENTICATE CRAM-MD5\r\n"), [send(`+ ${encodeBase64(salt)}\r\n`)]);
  // Digest of the wrong length → BAD.
  assert.deepEqual(feed(fe, encodeBase64("joe " + "0".repeat(31)) + "\r\n"), [send("1 " + BAD)]);
  random = 0.25;
  assert.deepEqual(feed(fe, "2 AUTHENTICATE CRAM-MD5\r\n"), [send(`+ ${encodeBase64(salt)}\r\n`)]);
  assert.deepEqual(feed(fe, encodeBase64("joe " + "0".repeat(32)) + "\r\n"), [
    auth("cram-md5", "joe", "0".repeat(32), salt),
  ]);
  assert.deepEqual(drainAfterFail(fe, 1), send("2 NO bad\r\n"));
  assert.deepEqual(
    feed(fe, "3 AUTHENTICATE CRAM-MD5\r\n"),
    [send(`+ ${encodeBase64(salt)}\r\n`)],
    "salt reused",
  );

  assert.deepEqual(feed(frontend(), "1 AUTHENTICATE CRAM-MD5\r\n"), [send("1 " + BAD)], "not enabled");
  assert.deepEqual(feed(frontend({ imap_auth: ["cram-md5"] }), "1 AUTHENTICATE CRAM-MD5 x\r\n"), [
    send("1 " + BAD),
  ]);
});

Deno.test("imap frontend: AUTHENTICATE EXTERNAL only when enabled", () => {
  assert.deepEqual(feed(frontend(), "1 AUTHENTICATE EXTERNAL\r\n"), [send("1 " + BAD)]);
  assert.deepEqual(feed(frontend(), `1 AUTHENTICATE EXTERNAL ${encodeBase64("joe")}\r\n`), [
    send("1 " + BAD),
  ]);
  const fe = frontend({ imap_auth: ["external"] });
  assert.deepEqual(feed(fe, "1 AUTHENTICATE EXTERNAL\r\n", encodeBase64("joe") + "\r\n"), [
    send("+ VXNlcm5hbWU6\r\n"),
    auth("external", "joe", ""),
  ]);
  assert.deepEqual(
    feed(frontend({ imap_auth: ["external"] }), `1 AUTHENTICATE EXTERNAL ${encodeBase64("joe")}\r\n`),
    [
      auth("external", "joe", ""),
    ],
  );
});

Deno.test("imap frontend: AUTHENTICATE without mechanism or with an unknown one", () => {
  assert.deepEqual(
    feed(frontend(), "1 AUTHENTICATE\r\n2 AUTHENTICATE XOAUTH2 abc\r\n3 AUTHENTICATE PLAIN a b\r\n"),
    [
      send("1 " + BAD),
      send("2 " + BAD),
      send("3 " + BAD),
    ],
  );
});

Deno.test("imap frontend: invalid commands and tag errors", () => {
  assert.deepEqual(
    feed(frontend({ max_errors: 100 }), "a01 SELECT INBOX\r\n\r\nbad*tag NOOP\r\na02\r\na03 \r\n NOOP\r\n"),
    [
      send("a01 " + BAD),
      send("* " + BAD),
      send("* " + BAD),
      send("* " + BAD),
      send("a03 " + BAD),
      send(" OK completed\r\n"),
    ],
  );
});

Deno.test("imap frontend: max_errors closes at the N-th parser-level error", () => {
  assert.deepEqual(feed(frontend({ max_errors: 2 }), "a FOO\r\nb BAR\r\nc NOOP\r\n"), [
    send("a " + BAD),
    { kind: "close", data: "b " + BAD, reason: "client sent too many invalid commands" },
  ]);
  // Post-parse rejections do not count.
  const fe = frontend({ max_errors: 2 });
  const steps = feed(fe, "a LOGIN x\r\n".repeat(5) + "b AUTHENTICATE FOO\r\nc STARTTLS\r\nd NOOP\r\n");
  assert.equal(steps.length, 8);
  assert.ok(steps.every((s) => s.kind === "send"));
  assert.deepEqual(steps.at(-1), send("d OK completed\r\n"));
});

Deno.test("imap frontend: a too long command gets BAD and close, without counting", () => {
  const fe = frontend({ imap_client_buffer: 64, max_errors: 1 });
  assert.deepEqual(feed(fe, "a NOOP\r\n", `b LOGIN ${"x".repeat(80)}`), [
    send("a OK completed\r\n"),
    { kind: "close", data: "b " + BAD, reason: "client sent too long command" },
  ]);
  assert.deepEqual(feed(frontend({ imap_client_buffer: 64 }), "x".repeat(64)), [
    { kind: "close", data: "* " + BAD, reason: "client sent too long command" },
  ]);
  // A literal larger than the buffer: continuation, then too long.
  assert.deepEqual(feed(frontend({ imap_client_buffer: 64 }), "a LOGIN {100}\r\n", "y".repeat(100)), [
    send("+ OK\r\n"),
    { kind: "close", data: "a " + BAD, reason: "client sent too long command" },
  ]);
});

Deno.test("imap frontend: invalid command with a non-synchronising literal closes", () => {
  assert.deepEqual(feed(frontend(), "a03 FOOBAR {10+}\r\ntest test \r\na04 NOOP\r\n"), [
    {
      kind: "close",
      data: "a03 " + BAD,
      reason: "client sent invalid command with a non-synchronizing literal",
    },
  ]);
});

Deno.test("imap frontend: STARTTLS discards pipelined bytes; lists change after TLS", () => {
  const fe = frontend({ starttls: "on" });
  assert.deepEqual(feed(fe, "a STARTTLS\r\nb LOGIN injected pw\r\n"), [
    { kind: "starttls", data: "a OK completed\r\n" },
  ]);
  assert.equal(fe.step(), null);
  fe.tlsEstablished();
  assert.deepEqual(feed(fe, "c CAPABILITY\r\nd STARTTLS\r\n"), [
    send(CAPS + "c OK completed\r\n"),
    send("d " + BAD),
  ]);
  assert.deepEqual(feed(frontend(), "a STARTTLS\r\n"), [send("a " + BAD)], "starttls off");
  assert.deepEqual(feed(frontend({ starttls: "on" }, { secure: true }), "a STARTTLS\r\n"), [
    send("a " + BAD),
  ]);
});

Deno.test("imap frontend: starttls only blocks LOGIN and AUTHENTICATE until TLS", () => {
  const fe = frontend({ starttls: "only" });
  assert.deepEqual(feed(fe, `a LOGIN u p\r\nb AUTHENTICATE PLAIN ${encodeBase64("\0u\0p")}\r\nc NOOP\r\n`), [
    send("a " + BAD),
    send("b " + BAD),
    send("c OK completed\r\n"),
  ]);
  assert.deepEqual(feed(fe, "d STARTTLS\r\n"), [{ kind: "starttls", data: "d OK completed\r\n" }]);
  fe.tlsEstablished();
  assert.deepEqual(feed(fe, "e LOGIN u p\r\n"), [auth("plain", "u", "p")]);
});

Deno.test("imap frontend: auth failure without wait closes; with wait continues with pipelined input", () => {
  const closing = frontend();
  feed(closing, "a LOGIN u p\r\n");
  assert.deepEqual(drainAfterFail(closing, 0), {
    kind: "close",
    data: "a NO bad\r\n",
    reason: "client login failed",
  });
  assert.equal(closing.step(), null);

  const waiting = frontend();
  assert.deepEqual(feed(waiting, "a LOGIN u p\r\nb NOOP\r\nc LOGIN u q\r\n"), [auth("plain", "u", "p")]);
  assert.deepEqual(drainAfterFail(waiting, 3), send("a NO bad\r\n"));
  assert.deepEqual(drain(waiting), [send("b OK completed\r\n"), auth("plain", "u", "q")]);
  const step = waiting.authFailed({ status: "fail", message: "Temporary\r\nfailure €", wait: 1 });
  assert.equal(toBinary((step as { data: Uint8Array }).data), "c NO Temporary failure \xe2\x82\xac\r\n");
});

Deno.test("imap frontend: CR, LF or NUL in credentials are refused", () => {
  const steps = feed(
    frontend({ max_errors: 100 }),
    "a LOGIN {6+}\r\nus\r\ner pw\r\n",
    "b LOGIN user {4}\r\n",
    "p\r\nw\r\n",
    'c LOGIN "us\0er" pw\r\n',
    `d AUTHENTICATE PLAIN ${encodeBase64("\0user\0pw\r\nA1 LOGOUT")}\r\n`,
    "e NOOP\r\n",
  );
  assert.deepEqual(steps, [
    send("a " + BAD),
    send("+ OK\r\n"),
    send("b " + BAD),
    send("c " + BAD),
    send("d " + BAD),
    send("e OK completed\r\n"),
  ]);
});

Deno.test("imap frontend: backendLogin uses the authenticating command's tag and Auth-User", () => {
  const fe = frontend();
  feed(fe, "x9 LOGIN user pass\r\n");
  const login = fe.backendLogin({ status: "ok", server: "127.0.0.1", port: 143, user: "real" }, {
    method: "plain",
    user: "user",
    pass: "pass",
  });
  assert.equal(fe.login, "real");
  const step = login.receive(fromBinary("* OK ready\r\n"));
  assert.deepEqual(step && step.kind === "send" ? toBinary(step.data) : step, "x9 LOGIN {4}\r\n");
});
