/**
 * Property tests of the SMTP machines on hostile input: the command parser, the front end
 * driven like the session driver does, and the backend dialogue. Same support and run count
 * as the rest of tests/fuzz/ (FUZZ_RUNS; `deno task fuzz` runs 100 000 cases).
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { SmtpBackendLogin } from "../../lib/protocols/smtp/backend_login.ts";
import { SmtpFrontend } from "../../lib/protocols/smtp/frontend.ts";
import { SmtpCommandParser, type SmtpParseEvent } from "../../lib/protocols/smtp/parser.ts";
import type { FrontendStep } from "../../lib/protocols/types.ts";
import { testServerConfig } from "../helpers/server_config.ts";
import { bin, bytesOf, check, chunked, hasLineBreakOrNul, replyLines, tokenStream } from "./fuzz_support.ts";

const base64Token = fc
  .array(fc.oneof(fc.constantFrom("\0", "\r", "\n", "\xff", "alice", "pass"), fc.string({ maxLength: 6 })), {
    maxLength: 5,
  })
  .map((parts) => btoa(parts.join("")));

const commandLine = fc
  .tuple(
    fc.constantFrom(
      "EHLO",
      "helo",
      "AUTH",
      "auth",
      "MAIL",
      "RCPT",
      "RSET",
      "NOOP",
      "QUIT",
      "STARTTLS",
      "VRFY",
      "DATA",
    ),
    fc.array(
      fc.oneof(
        fc.constantFrom("PLAIN", "LOGIN", "CRAM-MD5", "EXTERNAL", "FROM:<a@b>", "TO:<c@d>", "x", ""),
        base64Token,
        fc.uint8Array({ maxLength: 8 }).map(bin),
      ),
      { maxLength: 13 },
    ),
    fc.constantFrom("\r\n", "\n", "\r\r\n", " \r\n"),
  )
  .map(([verb, args, end]) => [verb, ...args].join(" ") + end);

const smtpClientStream = fc
  .array(
    fc.oneof(
      { weight: 6, arbitrary: commandLine },
      { weight: 2, arbitrary: base64Token.map((t) => t + "\r\n") },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }).map(bin) },
      { weight: 1, arbitrary: fc.nat({ max: 3000 }).map((n) => "x".repeat(n)) },
    ),
    { maxLength: 12 },
  )
  .map((parts) => bytesOf(parts.join("")));

const TOKENS = [
  "EHLO ",
  "HELO ",
  "AUTH ",
  "PLAIN",
  "LOGIN ",
  "MAIL FROM:<a@b>",
  "RCPT TO:<c@d>",
  "RSET",
  "=",
  "*",
];

/** Every line the SMTP front end may write (spec §4.0.1, §4.3). */
const FRONTEND_LINE = new RegExp(
  [
    "^220 mx\\.test ESMTP ready$",
    "^250[ -](mx\\.test|AUTH PLAIN LOGIN CRAM-MD5 EXTERNAL)$",
    "^250 2\\.0\\.0 OK$",
    "^221 2\\.0\\.0 Bye$",
    "^334 [A-Za-z0-9+/]*=*$",
    "^500 5\\.5\\.1 Invalid command$",
    "^501 5\\.5\\.4 Invalid argument$",
    "^503 5\\.5\\.1 Bad sequence of commands$",
    "^530 5\\.7\\.1 Authentication required$",
    "^535 5\\.7\\.0 [^\\r\\n]*$",
  ].join("|"),
);

function drain(parser: SmtpCommandParser, out: SmtpParseEvent[]): void {
  for (let e = parser.next(); e !== null; e = parser.next()) {
    out.push(e);
    if (out.length > 100_000) assert.fail("parser emits events without consuming input");
  }
}

Deno.test("fuzz: SMTP parser never throws, stays within smtp_client_buffer, ignores chunking", () =>
  check(
    "smtp parser",
    fc.property(chunked(fc.oneof(smtpClientStream, tokenStream(TOKENS))), fc.integer({ min: 1, max: 600 }), (
      chunks,
      limit,
    ) => {
      const parser = new SmtpCommandParser(limit);
      const events: SmtpParseEvent[] = [];
      for (const chunk of chunks) {
        parser.push(chunk);
        drain(parser, events);
        assert.ok(parser.buffered < limit, `buffered ${parser.buffered} >= limit ${limit}`);
      }
      for (const e of events) {
        if (e.kind === "command") {
          assert.ok(e.args.length <= 11);
          assert.ok(!/[\r\n]/.test(e.line), "a stored line never holds CR or LF");
        }
      }
      const whole = new SmtpCommandParser(limit);
      const once: SmtpParseEvent[] = [];
      whole.push(bytesOf(chunks.map(bin).join("")));
      drain(whole, once);
      assert.deepEqual(events, once);
    }),
  ));

Deno.test("fuzz: SMTP front end answers well-formed lines and never passes unsafe credentials", () =>
  check(
    "smtp frontend",
    fc.property(
      chunked(fc.oneof(smtpClientStream, tokenStream(TOKENS))),
      fc.integer({ min: 16, max: 2048 }),
      fc.integer({ min: 1, max: 8 }),
      fc.array(fc.boolean(), { maxLength: 4 }),
      (chunks, limit, maxErrors, waits) => {
        const fe = new SmtpFrontend(
          testServerConfig({
            protocol: "smtp",
            server_name: "mx.test",
            smtp_client_buffer: limit,
            max_errors: maxErrors,
            smtp_auth: ["plain", "login", "cram-md5", "external", "none"],
          }),
          { secure: false, clientIp: "192.0.2.1", random: () => 0.5, now: () => 0 },
        );
        let text = bin(fe.greeting());
        let closed = false;
        let decision = 0;
        outer: for (const chunk of chunks) {
          fe.receive(chunk);
          for (let step: FrontendStep | null = fe.step(); step !== null; step = fe.step()) {
            if (step.kind === "send") text += bin(step.data);
            else if (step.kind === "close") {
              text += step.data ? bin(step.data) : "";
              closed = true;
              break outer;
            } else if (step.kind === "starttls") assert.fail("STARTTLS accepted although starttls is off");
            else {
              const c = step.credentials;
              assert.ok(!hasLineBreakOrNul(c.user) && !hasLineBreakOrNul(c.pass), "unsafe credentials");
              if (c.smtp) {
                assert.ok(
                  !/[\r\n]/.test(c.smtp.from + c.smtp.to + c.smtp.helo),
                  "CR/LF in MAIL/RCPT/HELO",
                );
              }
              const wait = waits[decision++];
              if (wait === undefined) {
                assert.ok(fe.backendLogin({ status: "ok", server: "127.0.0.1", port: 25 }, c));
                break outer;
              }
              const reply = fe.authFailed({ status: "fail", message: "No", wait: wait ? 1 : 0 });
              text += reply.kind !== "auth" && reply.data ? bin(reply.data) : "";
              if (reply.kind === "close") {
                closed = true;
                break outer;
              }
            }
          }
        }
        if (closed) assert.equal(fe.step(), null, "a closed front end must stay silent");
        replyLines(text, FRONTEND_LINE, "smtp frontend");
      },
    ),
  ));

const BACKEND_TOKENS = [
  "220 ok\r\n",
  "250 ok\r\n",
  "250-x\r\n",
  "235 ok\r\n",
  "550 no\r\n",
  "220-",
  "secret",
  "\r\n",
];

Deno.test("fuzz: SMTP backend dialogue sends well-formed lines and never logs the password", () =>
  check(
    "smtp backend login",
    fc.property(
      chunked(tokenStream(BACKEND_TOKENS, 20)),
      fc.integer({ min: 4, max: 512 }),
      fc.boolean(),
      fc.boolean(),
      fc.boolean(),
      (chunks, proxyBuffer, passError, smtpAuth, none) => {
        const secret = "secretpass";
        const login = new SmtpBackendLogin(
          testServerConfig({
            protocol: "smtp",
            server_name: "mx.test",
            proxy_buffer: proxyBuffer,
            proxy_pass_error_message: passError,
            proxy_smtp_auth: smtpAuth,
          }),
          { status: "ok", server: "127.0.0.1", port: 25 },
          none
            ? {
              method: "none",
              user: "",
              pass: "",
              smtp: { helo: "h", from: "MAIL FROM:<a@b>", to: "RCPT TO:<c@d>" },
            }
            : { method: "plain", user: "alice", pass: secret },
          { esmtp: true, helo: "h", clientIp: "192.0.2.1", clientHost: "[UNAVAILABLE]" },
        );
        let sent = "";
        let ended = false;
        for (const chunk of chunks) {
          if (ended) break;
          let step = login.receive(chunk);
          for (let guard = 0; step !== null && !ended; guard++) {
            assert.ok(guard < 100, "backend login loops");
            if (step.kind === "send") {
              sent += bin(step.data);
              step = login.receive(new Uint8Array(0));
            } else {
              ended = true;
              if (step.kind === "fail") {
                assert.ok(!step.log.includes(secret), "password in a log line");
                if (!passError) assert.equal(bin(step.toClient), "451 4.3.2 Internal server error\r\n");
              }
            }
          }
        }
        if (sent !== "") {
          replyLines(
            sent,
            /^(EHLO mx\.test|XCLIENT ADDR=192\.0\.2\.1 (LOGIN=alice )?NAME=\[UNAVAILABLE\]|EHLO h|MAIL FROM:<a@b>|RCPT TO:<c@d>|AUTH PLAIN [A-Za-z0-9+/=]+)$/,
            "sent",
          );
        }
      },
    ),
  ));
