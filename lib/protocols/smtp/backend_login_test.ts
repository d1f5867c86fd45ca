import assert from "node:assert/strict";
import { testServerConfig } from "../../../tests/helpers/server_config.ts";
import type { AuthOk } from "../../auth/types.ts";
import type { ServerConfig } from "../../config/types.ts";
import { encodeBase64 } from "../../sasl/base64.ts";
import { fromBinary, toBinary } from "../../util/bytes.ts";
import type { BackendStep } from "../types.ts";
import type { Credentials } from "../../types.ts";
import { SmtpBackendLogin, type SmtpSessionFacts } from "./backend_login.ts";
import { xclientLine, xtext } from "./xclient.ts";

const OK: AuthOk = { status: "ok", server: "127.0.0.1", port: 25 };
const ALICE: Credentials = { method: "plain", user: "alice", pass: "alicepass" };
const FACTS: SmtpSessionFacts = {
  esmtp: true,
  helo: "laptop",
  clientIp: "192.0.2.7",
  clientHost: "[UNAVAILABLE]",
};
const INTERNAL = "451 4.3.2 Internal server error\r\n";

function login(
  o: Partial<ServerConfig> = {},
  creds: Credentials = ALICE,
  facts: Partial<SmtpSessionFacts> = {},
  ok: AuthOk = OK,
) {
  return new SmtpBackendLogin(
    testServerConfig({ protocol: "smtp", server_name: "mx.test", ...o }),
    ok,
    creds,
    {
      ...FACTS,
      ...facts,
    },
  );
}

type Shown = { kind: string; data?: string; log?: string };
const show = (s: BackendStep | null): Shown | null =>
  s === null
    ? null
    : s.kind === "send"
    ? { kind: "send", data: toBinary(s.data) }
    : s.kind === "done"
    ? { kind: "done", data: toBinary(s.toClient) }
    : { kind: "fail", data: toBinary(s.toClient), log: s.log };

/** Feeds backend replies one by one; returns what mailproxy sent and the final step. */
function dialogue(l: SmtpBackendLogin, ...replies: string[]): Shown[] {
  return replies.map((r) => show(l.receive(fromBinary(r)))!);
}

Deno.test("smtp backend: EHLO, XCLIENT, client EHLO replay, then 235 to the client", () => {
  assert.deepEqual(
    dialogue(
      login(),
      "220 backend ESMTP\r\n",
      "250-backend\r\n250-PIPELINING\r\n250 XCLIENT ADDR NAME LOGIN\r\n",
      "220 backend ESMTP\r\n",
      "250-backend\r\n250 8BITMIME\r\n",
    ),
    [
      { kind: "send", data: "EHLO mx.test\r\n" },
      { kind: "send", data: "XCLIENT ADDR=192.0.2.7 LOGIN=alice NAME=[UNAVAILABLE]\r\n" },
      { kind: "send", data: "EHLO laptop\r\n" },
      { kind: "done", data: "235 2.0.0 OK\r\n" },
    ],
  );
});

Deno.test("smtp backend: HELO client, no HELO at all, xclient off", () => {
  assert.deepEqual(
    dialogue(
      login({}, ALICE, { esmtp: false, helo: "old" }),
      "220 b\r\n",
      "250 b\r\n",
      "250 ok\r\n",
      "250 b\r\n",
    ),
    [
      { kind: "send", data: "EHLO mx.test\r\n" },
      { kind: "send", data: "XCLIENT ADDR=192.0.2.7 LOGIN=alice NAME=[UNAVAILABLE]\r\n" },
      { kind: "send", data: "HELO old\r\n" },
      { kind: "done", data: "235 2.0.0 OK\r\n" },
    ],
  );
  // No HELO from the client: nothing to replay after XCLIENT.
  assert.deepEqual(
    dialogue(login({}, ALICE, { esmtp: false, helo: "" }), "220 b\r\n", "250 b\r\n", "220 b\r\n"),
    [
      { kind: "send", data: "EHLO mx.test\r\n" },
      { kind: "send", data: "XCLIENT ADDR=192.0.2.7 LOGIN=alice NAME=[UNAVAILABLE]\r\n" },
      { kind: "done", data: "235 2.0.0 OK\r\n" },
    ],
  );
  // xclient off: HELO unless the client said EHLO.
  assert.deepEqual(dialogue(login({ xclient: false }, ALICE, { esmtp: false }), "220 b\r\n", "250 b\r\n"), [
    { kind: "send", data: "HELO mx.test\r\n" },
    { kind: "done", data: "235 2.0.0 OK\r\n" },
  ]);
});

Deno.test("smtp backend: proxy_smtp_auth sends AUTH PLAIN (Auth-User/Auth-Pass win) and drops LOGIN=", () => {
  const token = encodeBase64("\0bob\0bobpass");
  assert.deepEqual(
    dialogue(
      login({ proxy_smtp_auth: true }, ALICE, { helo: "" }, { ...OK, user: "bob", pass: "bobpass" }),
      "220 b\r\n",
      "250 b\r\n",
      "250 b\r\n",
      "235 2.7.0 Authentication successful\r\n",
    ),
    [
      { kind: "send", data: "EHLO mx.test\r\n" },
      { kind: "send", data: "XCLIENT ADDR=192.0.2.7 NAME=[UNAVAILABLE]\r\n" },
      { kind: "send", data: `AUTH PLAIN ${token}\r\n` },
      { kind: "done", data: "235 2.0.0 OK\r\n" },
    ],
  );
  // A refused backend AUTH is an internal error; the password never reaches the log.
  const refused = dialogue(
    login({ proxy_smtp_auth: true, xclient: false }),
    "220 b\r\n",
    "250 b\r\n",
    "535 5.7.8 alicepass is wrong\r\n",
  );
  assert.deepEqual(refused[2], {
    kind: "fail",
    data: INTERNAL,
    log: 'upstream sent invalid response to AUTH PLAIN: "535 5.7.8 *** is wrong"',
  });
});

Deno.test("smtp backend: proxy_smtp_auth without a password is an internal error", () => {
  const cram: Credentials = { method: "cram-md5", user: "carol", pass: "0".repeat(32), salt: "<1.2@mx>" };
  const steps = dialogue(login({ proxy_smtp_auth: true, xclient: false }, cram), "220 b\r\n", "250 b\r\n");
  assert.deepEqual(steps[1], { kind: "fail", data: INTERNAL, log: "no password available" });
  // With Auth-Pass it works.
  const withPass = dialogue(
    login({ proxy_smtp_auth: true, xclient: false }, cram, {}, { ...OK, pass: "p" }),
    "220 b\r\n",
    "250 b\r\n",
  );
  assert.equal(withPass[1].data, `AUTH PLAIN ${encodeBase64("\0carol\0p")}\r\n`);
});

Deno.test("smtp backend: smtp_auth none replays MAIL and RCPT; the RCPT reply goes to the client", () => {
  const creds: Credentials = {
    method: "none",
    user: "",
    pass: "",
    smtp: { helo: "mx.sender", from: "MAIL FROM:<a@b> SIZE=10", to: "RCPT TO:<c@d>" },
  };
  assert.deepEqual(
    dialogue(
      login({}, creds, { helo: "mx.sender" }),
      "220 b\r\n",
      "250 b\r\n",
      "220 b\r\n",
      "250 b\r\n",
      "250 2.1.0 Ok\r\n",
      "550 5.1.1 <c@d>: Recipient address rejected\r\n",
    ),
    [
      { kind: "send", data: "EHLO mx.test\r\n" },
      { kind: "send", data: "XCLIENT ADDR=192.0.2.7 NAME=[UNAVAILABLE]\r\n" },
      { kind: "send", data: "EHLO mx.sender\r\n" },
      { kind: "send", data: "MAIL FROM:<a@b> SIZE=10\r\n" },
      { kind: "send", data: "RCPT TO:<c@d>\r\n" },
      { kind: "done", data: "550 5.1.1 <c@d>: Recipient address rejected\r\n" },
    ],
  );
  // The MAIL reply must be 250.
  const refused = dialogue(
    login({ xclient: false }, creds),
    "220 b\r\n",
    "250 b\r\n",
    "451 4.3.0 try later\r\n",
  );
  assert.equal(refused[2].kind, "fail");
});

Deno.test("smtp backend: wrong codes, proxy_pass_error_message, partial and multi-line replies", () => {
  assert.deepEqual(show(login().receive(fromBinary("554 no service\r\n"))), {
    kind: "fail",
    data: INTERNAL,
    log: 'upstream sent invalid response to greeting: "554 no service"',
  });
  assert.deepEqual(
    show(login({ proxy_pass_error_message: true }).receive(fromBinary("554 no service\r\n"))),
    {
      kind: "fail",
      data: "554 no service\r\n",
      log: 'upstream sent invalid response to greeting: "554 no service"',
    },
  );
  const l = login({ xclient: false });
  assert.equal(l.receive(fromBinary("22")), null);
  assert.equal(l.receive(fromBinary("0 hi")), null);
  assert.equal(show(l.receive(fromBinary("\r\n")))?.data, "EHLO mx.test\r\n");
  assert.equal(l.receive(fromBinary("250-b\r\n")), null, "the last line has not arrived");
  assert.equal(l.receive(fromBinary("250-SIZE\r\n250 DSN")), null);
  assert.deepEqual(show(l.receive(fromBinary("\r\n"))), { kind: "done", data: "235 2.0.0 OK\r\n" });
  assert.equal(l.receive(fromBinary("250 late\r\n")), null, "finished");
  // XCLIENT accepts 220 and 250 only.
  const x = dialogue(login(), "220 b\r\n", "250 b\r\n", "550 not allowed\r\n");
  assert.equal(x[2].log, 'upstream sent invalid response to XCLIENT: "550 not allowed"');
});

Deno.test("smtp backend: a reply longer than proxy_buffer fails", () => {
  const l = login({ proxy_buffer: 32 });
  const step = show(l.receive(fromBinary(`220 ${"x".repeat(40)}\r\n`)));
  assert.equal(step?.kind, "fail");
  assert.equal(step?.data, INTERNAL);
  const multi = login({ proxy_buffer: 32, xclient: false });
  multi.receive(fromBinary("220 b\r\n"));
  assert.equal(show(multi.receive(fromBinary("250-aaaaaaaaaa\r\n250-bbbbbbbbbbbb\r\n")))?.kind, "fail");
});

Deno.test("xclient: xtext-encoded LOGIN, IPV6: prefix, NAME", () => {
  assert.equal(xtext("a b+c=d\x7f\u00e9"), "a+20b+2Bc+3Dd+7F+E9");
  assert.equal(
    xclientLine("2001:db8::1", "", "[TEMPUNAVAIL]"),
    "XCLIENT ADDR=IPV6:2001:db8::1 NAME=[TEMPUNAVAIL]\r\n",
  );
  assert.equal(
    xclientLine("10.0.0.1", "evil NAME=x", "h.example"),
    "XCLIENT ADDR=10.0.0.1 LOGIN=evil+20NAME+3Dx NAME=h.example\r\n",
  );
});
