/**
 * Property tests of the POP3 and SMTP machines on hostile input: parsers (bounded
 * buffer, chunking-independent), front ends driven like the session driver does
 * (well-formed replies, no unsafe credentials), and the backend logins fed hostile
 * Auth-User/Auth-Pass values and backend replies (one command line per write: no
 * command injection towards the backend, no password in log text).
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { Pop3CommandParser } from "../../lib/protocols/pop3/parser.ts";
import { Pop3Frontend } from "../../lib/protocols/pop3/frontend.ts";
import { SmtpCommandParser } from "../../lib/protocols/smtp/parser.ts";
import { SmtpFrontend } from "../../lib/protocols/smtp/frontend.ts";
import type { Frontend, FrontendStep } from "../../lib/protocols/types.ts";
import { testServerConfig } from "../helpers/server_config.ts";
import { bin, bytesOf, check, chunked, hasLineBreakOrNul } from "./fuzz_support.ts";

const b64 = fc.array(fc.constantFrom("\0", "\r", "\n", "alice", "pass", "\xff", " ", "x"), { maxLength: 6 })
  .map((p) => btoa(p.join("")));

const POP3_LINES = fc.oneof(
  fc.constantFrom(
    "USER alice\r\nPASS alicepass\r\n",
    "AUTH PLAIN AGFsaWNlAGFsaWNlcGFzcw==\r\n",
    "AUTH LOGIN\r\nYWxpY2U=\r\nYWxpY2VwYXNz\r\n",
    "APOP alice 0123456789abcdef0123456789abcdef\r\n",
  ),
  fc.tuple(
    fc.constantFrom("USER", "user", "PASS", "APOP", "QUIT", "CAPA", "AUTH", "NOOP", "STLS", "RETR", ""),
    fc.array(fc.oneof(fc.constantFrom("alice", "alicepass", "PLAIN", "LOGIN", "CRAM-MD5", "x"), b64), {
      maxLength: 4,
    }),
    fc.constantFrom("\r\n", "\n", "\r\r\n", " \r\n"),
  ).map(([verb, args, end]) => [verb, ...args].join(" ") + end),
  b64.map((t) => t + "\r\n"),
  fc.uint8Array({ maxLength: 40 }).map(bin),
  fc.nat({ max: 9000 }).map((n) => "x".repeat(n)),
);

const SMTP_LINES = fc.oneof(
  fc.constantFrom(
    "EHLO client.example\r\nAUTH PLAIN AGFsaWNlAGFsaWNlcGFzcw==\r\n",
    "HELO client.example\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n",
    "AUTH LOGIN YWxpY2U=\r\nYWxpY2VwYXNz\r\n",
    "EHLO x\r\nMAIL FROM:<a@b> SIZE=10\r\nRCPT TO:<c@d>\r\n",
  ),
  fc.tuple(
    fc.constantFrom(
      "HELO",
      "EHLO",
      "ehlo",
      "AUTH",
      "MAIL FROM:<a@b>",
      "RCPT TO:<c@d>",
      "RSET",
      "NOOP",
      "QUIT",
      "VRFY",
      "STARTTLS",
      "DATA",
    ),
    fc.array(fc.oneof(fc.constantFrom("client.example", "PLAIN", "LOGIN", "CRAM-MD5", "x", "="), b64), {
      maxLength: 3,
    }),
    fc.constantFrom("\r\n", "\n", "\r\r\n", " \r\n"),
  ).map(([verb, args, end]) => [verb, ...args].join(" ") + end),
  b64.map((t) => t + "\r\n"),
  fc.uint8Array({ maxLength: 40 }).map(bin),
  fc.nat({ max: 6000 }).map((n) => "y".repeat(n)),
);

const stream = (lines: fc.Arbitrary<string>) =>
  fc.array(lines, { maxLength: 12 }).map((parts) => bytesOf(parts.join("")));

/** Replies of the auth service, including hostile Auth-User / Auth-Pass values. */
const authValue = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom("alice", "other"),
  fc.array(fc.constantFrom("a", "\r\n", "\n", "\0", "QUIT", " "), { maxLength: 5 }).map((p) => p.join("")),
);

/** Counts of deep states reached, printed by the fuzz task (a generator that stops reaching them shows). */
const coverage = { logins: 0, backendLines: 0 };

interface Decision {
  fail: boolean;
  wait: boolean;
  message: string;
  user: string | undefined;
  pass: string | undefined;
  backend: Uint8Array[];
}

const decision: fc.Arbitrary<Decision> = fc.record({
  fail: fc.nat({ max: 3 }).map((n) => n === 0),
  wait: fc.boolean(),
  message: fc.uint8Array({ maxLength: 30 }).map(bin),
  user: authValue,
  pass: authValue,
  backend: chunked(
    fc.array(
      fc.oneof(
        {
          weight: 3,
          arbitrary: fc.constantFrom(
            "+OK ready\r\n+OK\r\n+OK\r\n",
            "220 hi\r\n250 ok\r\n220 ok\r\n250 ok\r\n235 ok\r\n250 ok\r\n250 ok\r\n",
            "220 hi\r\n250-a\r\n250 b\r\n250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n",
          ),
        },
        fc.constantFrom(
          "+OK ready\r\n",
          "+OK\r\n",
          "-ERR no\r\n",
          "220 hi\r\n",
          "250 ok\r\n",
          "250-x\r\n250 y\r\n",
          "235 ok\r\n",
          "334 \r\n",
          "421 bye\r\n",
          "\r\n",
        ),
        fc.uint8Array({ maxLength: 20 }).map(bin),
      ),
      { maxLength: 8 },
    ).map((p) => bytesOf(p.join(""))),
  ),
});

/**
 * Drives a front end like lib/session/session.ts and checks every reply with
 * `checkReply`. Auth steps take the next decision: fail (with or without wait) or
 * log in to a scripted backend.
 */
function drive(
  frontend: Frontend,
  chunks: Uint8Array[],
  decisions: Decision[],
  checkReply: (data: string) => void,
  secretOf: (user: string, pass: string) => string,
): void {
  checkReply(bin(frontend.greeting()));
  let closed = false;
  let next = 0;
  outer: for (const chunk of chunks) {
    frontend.receive(chunk);
    for (let step: FrontendStep | null = frontend.step(); step !== null; step = frontend.step()) {
      if (step.kind === "send" || step.kind === "starttls") {
        checkReply(bin(step.data));
        if (step.kind === "starttls") break outer;
      } else if (step.kind === "close") {
        if (step.data && step.data.length > 0) checkReply(bin(step.data));
        closed = true;
        break outer;
      } else {
        const c = step.credentials;
        assert.ok(!hasLineBreakOrNul(c.user), `unsafe login ${JSON.stringify(c.user)}`);
        assert.ok(!hasLineBreakOrNul(c.pass), `unsafe password ${JSON.stringify(c.pass)}`);
        if (c.smtp) {
          for (const v of [c.smtp.helo, c.smtp.from, c.smtp.to]) {
            assert.ok(!/[\r\n]/.test(v), JSON.stringify(v));
          }
        }
        const d = decisions[next++];
        if (d === undefined) break outer;
        if (d.fail) {
          const reply = frontend.authFailed({ status: "fail", message: d.message, wait: d.wait ? 1 : 0 });
          if (reply.kind === "send" || reply.kind === "close") {
            if (reply.data && reply.data.length > 0) checkReply(bin(reply.data));
          }
          if (reply.kind === "close") {
            closed = true;
            break outer;
          }
          continue;
        }
        const ok = {
          status: "ok" as const,
          server: "127.0.0.1",
          port: 110,
          ...(d.user !== undefined ? { user: d.user } : {}),
          ...(d.pass !== undefined ? { pass: d.pass } : {}),
        };
        const login = frontend.backendLogin(ok, c);
        coverage.logins++;
        const secret = secretOf(d.user ?? c.user, d.pass ?? c.pass);
        for (const data of d.backend) {
          let s = login.receive(data);
          let guard = 0;
          while (s !== null) {
            assert.ok(++guard < 100, "backend login loops");
            if (s.kind === "send") {
              // One command line per write, nothing smuggled in by Auth-User/Auth-Pass.
              const line = bin(s.data);
              coverage.backendLines++;
              assert.match(
                line,
                /^[^\r\n]*\r\n$/,
                `injected command towards the backend: ${JSON.stringify(line)}`,
              );
              s = login.receive(new Uint8Array(0));
            } else {
              if (s.kind === "fail" && secret.length >= 4) {
                assert.ok(!s.log.includes(secret), "password in log");
              }
              break;
            }
          }
          if (s !== null) break;
        }
        break outer;
      }
    }
  }
  if (closed) assert.equal(frontend.step(), null, "a closed front end must stay silent");
}

/** A POP3 reply: `+OK`/`-ERR`/`+ ` first line, or a CAPA list ending in `.`. */
function checkPop3(data: string): void {
  assert.ok(data.endsWith("\r\n"), `not CRLF-terminated: ${JSON.stringify(data)}`);
  const lines = data.slice(0, -2).split("\r\n");
  for (const l of lines) assert.ok(!/[\r\n]/.test(l), `bare CR/LF in ${JSON.stringify(l)}`);
  assert.match(lines[0], /^(\+OK|-ERR|\+ )/, JSON.stringify(data));
  if (lines.length > 1) assert.equal(lines[lines.length - 1], ".", `multi-line reply without "." end`);
}

/** An SMTP reply: each line `NNN-` except the last `NNN `, one code throughout. */
function checkSmtp(data: string): void {
  assert.ok(data.endsWith("\r\n"), `not CRLF-terminated: ${JSON.stringify(data)}`);
  const lines = data.slice(0, -2).split("\r\n");
  const code = lines[0].slice(0, 3);
  assert.match(code, /^[2-5]\d\d$/, JSON.stringify(data));
  lines.forEach((l, i) => {
    assert.ok(!/[\r\n]/.test(l), `bare CR/LF in ${JSON.stringify(l)}`);
    assert.equal(l.slice(0, 3), code, `mixed codes in ${JSON.stringify(data)}`);
    assert.equal(
      l[3] ?? " ",
      i === lines.length - 1 ? " " : "-",
      `bad continuation in ${JSON.stringify(data)}`,
    );
  });
}

function parserProperty(
  name: string,
  make: (limit: number) => Pop3CommandParser | SmtpCommandParser,
  lines: fc.Arbitrary<string>,
) {
  return check(
    name,
    fc.property(chunked(stream(lines)), fc.integer({ min: 1, max: 600 }), (chunks, limit) => {
      const parser = make(limit);
      const events: unknown[] = [];
      for (const chunk of chunks) {
        parser.push(chunk);
        for (let e = parser.next(); e !== null; e = parser.next()) events.push(e);
        assert.ok(parser.buffered <= limit, `buffered ${parser.buffered} > limit ${limit}`);
      }
      const whole = make(limit);
      const all = bytesOf(chunks.map(bin).join(""));
      whole.push(all);
      const once: unknown[] = [];
      for (let e = whole.next(); e !== null; e = whole.next()) once.push(e);
      assert.deepEqual(events, once, "result depends on how the input was split");
    }),
  );
}

Deno.test("fuzz: POP3 parser never throws, stays within its buffer, ignores chunking", () =>
  parserProperty("pop3 parser", (limit) => new Pop3CommandParser(limit), POP3_LINES));

Deno.test("fuzz: SMTP parser never throws, stays within its buffer, ignores chunking", () =>
  parserProperty("smtp parser", (limit) => new SmtpCommandParser(limit), SMTP_LINES));

Deno.test("fuzz: POP3 front end and backend login on hostile clients, auth replies and backends", () =>
  check(
    "pop3 frontend+backend",
    fc.property(
      chunked(stream(POP3_LINES)),
      fc.array(decision, { maxLength: 3 }),
      fc.integer({ min: 16, max: 2048 }),
      fc.boolean(),
      (chunks, decisions, limit, passError) => {
        const config = testServerConfig({
          protocol: "pop3",
          pop3_client_buffer: limit,
          pop3_auth: ["plain", "apop", "cram-md5", "external"],
          proxy_pass_error_message: passError,
        });
        const frontend = new Pop3Frontend(config, {
          secure: false,
          clientIp: "127.0.0.1",
          random: () => 0.5,
          now: () => 0,
        });
        drive(frontend, chunks, decisions, checkPop3, (_u, p) => p);
      },
    ),
  ));

Deno.test("fuzz: SMTP front end and backend login on hostile clients, auth replies and backends", () =>
  check(
    "smtp frontend+backend",
    fc.property(
      chunked(stream(SMTP_LINES)),
      fc.array(decision, { maxLength: 3 }),
      fc.integer({ min: 16, max: 2048 }),
      fc.boolean(),
      fc.boolean(),
      (chunks, decisions, limit, xclient, smtpAuth) => {
        const config = testServerConfig({
          protocol: "smtp",
          smtp_client_buffer: limit,
          smtp_auth: ["plain", "login", "cram-md5", "external", "none"],
          xclient,
          proxy_smtp_auth: smtpAuth,
        });
        const frontend = new SmtpFrontend(config, {
          secure: false,
          clientIp: "127.0.0.1",
          random: () => 0.5,
          now: () => 0,
        });
        drive(frontend, chunks, decisions, checkSmtp, (u, p) => btoa(`\0${u}\0${p}`));
      },
    ),
  ));

Deno.test("fuzz: POP3/SMTP generators reach backend logins", () => {
  console.log(`backend logins started: ${coverage.logins}, backend command lines: ${coverage.backendLines}`);
  assert.ok(coverage.logins > 0 && coverage.backendLines > 0, "the generators never reach a backend login");
});
