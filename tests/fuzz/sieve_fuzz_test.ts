/**
 * Property tests of the ManageSieve machines on hostile input: the parser (bounded
 * buffer, the same events however the bytes are split), the front end driven like the
 * session driver does (well-formed replies, no unsafe credentials), and the backend
 * login fed hostile Auth-User/Auth-Pass values and backend replies (one AUTHENTICATE
 * per write: no command injection towards the backend, no password in log text).
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { SieveCommandParser, type SieveParseEvent } from "../../lib/protocols/sieve/parser.ts";
import { SieveFrontend } from "../../lib/protocols/sieve/frontend.ts";
import type { FrontendStep } from "../../lib/protocols/types.ts";
import { testServerConfig } from "../helpers/server_config.ts";
import { bin, bytesOf, check, chunked, hasLineBreakOrNul, tokenStream } from "./fuzz_support.ts";

const TOKENS = [
  'AUTHENTICATE "PLAIN" "AGFsaWNlAGFsaWNlcGFzcw=="\r\n',
  'AUTHENTICATE "LOGIN" "YWxpY2U="\r\n"YWxpY2VwYXNz"\r\n',
  'AUTHENTICATE "PLAIN" {24+}\r\nAGFsaWNlAGFsaWNlcGFzcw==\r\n',
  "AUTHENTICATE",
  "authenticate",
  '"PLAIN"',
  '"LOGIN"',
  '"EXTERNAL"',
  '"CRAM-MD5"',
  '"AGFsaWNlAGFsaWNlcGFzcw=="',
  '"YWxpY2U="',
  '"*"',
  '""',
  '"a\\"b"',
  '"\\\\"',
  "{5+}\r\n",
  "{5}\r\n",
  "{0+}\r\n",
  "{24+}\r\nAGFsaWNlAGFsaWNlcGFzcw==",
  "{99999+}\r\n",
  "CAPABILITY",
  "NOOP",
  "LOGOUT",
  "STARTTLS",
  "PUTSCRIPT",
  "LISTSCRIPTS",
  "HAVESPACE",
  "1234",
  " ",
  "\r\n",
];

const input = tokenStream(TOKENS);

/** The events up to and including the first too-long (after it the session is over). */
function events(limit: number, chunks: Uint8Array[]): { events: SieveParseEvent[]; maxBuffered: number } {
  const parser = new SieveCommandParser(limit);
  const out: SieveParseEvent[] = [];
  let maxBuffered = 0;
  for (const chunk of chunks) {
    parser.push(chunk);
    for (let e = parser.next(); e !== null; e = parser.next()) {
      out.push(e);
      if (e.kind === "too-long") return { events: out, maxBuffered };
    }
    maxBuffered = Math.max(maxBuffered, parser.buffered);
  }
  return { events: out, maxBuffered };
}

Deno.test("fuzz: ManageSieve parser never throws, stays within its buffer, ignores chunking", () =>
  check(
    "sieve parser: chunking-independent, bounded buffer",
    fc.property(chunked(input), fc.integer({ min: 1, max: 2000 }), (chunks, limit) => {
      const split = events(limit, chunks);
      const whole = events(limit, [bytesOf(chunks.map(bin).join(""))]);
      assert.deepEqual(split.events, whole.events);
      // The incomplete line, one byte after a literal or quoted string, a CRLF.
      assert.ok(split.maxBuffered <= limit + 3, `buffered ${split.maxBuffered} > limit ${limit} + 3`);
    }),
  ));

/** Capability lines, challenges and OK/NO/BYE lines: every reply of the front end. */
const REPLY_LINE =
  /^("[A-Z]+"( "([^"\\\r\n]|\\["\\])*")?|"[A-Za-z0-9+/=]*"|(OK|NO|BYE)( \([A-Z-]+( "([^"\\\r\n]|\\["\\])*")?\))?( "([^"\\\r\n]|\\["\\])*")?)$/;

function checkReply(data: string): void {
  assert.ok(data.endsWith("\r\n"), `not CRLF-terminated: ${JSON.stringify(data)}`);
  for (const line of data.slice(0, -2).split("\r\n")) {
    assert.match(line, REPLY_LINE, `malformed reply line ${JSON.stringify(line)}`);
  }
}

const authValue = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom("alice", "x".repeat(900)),
  fc.array(fc.constantFrom("a", "\r\n", "\n", "\0", '"', "{3+}", " ", "LOGOUT"), { maxLength: 5 }).map((p) =>
    p.join("")
  ),
);

const backendReplies = chunked(
  fc.array(
    fc.constantFrom(
      '"IMPLEMENTATION" "Dovecot"\r\nOK "ready"\r\nOK "Logged in."\r\n',
      '"IMPLEMENTATION" "Dovecot"\r\n"SASL" "PLAIN"\r\n',
      'OK "ready"\r\n',
      'NO "no"\r\n',
      'BYE "bye"\r\n',
      '"X" {4}\r\nOK\r\n\r\n',
      "OKAY\r\n",
      "\r\n",
      "\xff\0",
    ),
    { maxLength: 6 },
  ).map((p) => bytesOf(p.join(""))),
);

const coverage = { logins: 0, done: 0 };

Deno.test("fuzz: ManageSieve front end and backend login on hostile clients, auth replies and backends", () =>
  check(
    "sieve frontend and backend login: well-formed replies, safe credentials, one AUTHENTICATE per write",
    fc.property(
      chunked(input),
      fc.record({
        fail: fc.boolean(),
        wait: fc.boolean(),
        message: fc.uint8Array({ maxLength: 30 }).map(bin),
        user: authValue,
        pass: authValue,
        backend: backendReplies,
        starttls: fc.constantFrom("off", "on", "only"),
        limit: fc.integer({ min: 16, max: 4096 }),
      }),
      (chunks, d) => {
        const fe = new SieveFrontend(
          testServerConfig({
            protocol: "sieve",
            starttls: d.starttls as "off" | "on" | "only",
            sieve_client_buffer: d.limit,
            sieve_auth: ["plain", "login", "external"],
          }),
          { secure: false },
        );
        checkReply(bin(fe.greeting()));
        outer: for (const chunk of chunks) {
          fe.receive(chunk);
          for (let step: FrontendStep | null = fe.step(); step !== null; step = fe.step()) {
            if (step.kind === "send") checkReply(bin(step.data));
            else if (step.kind === "starttls") {
              checkReply(bin(step.data));
              fe.tlsEstablished();
            } else if (step.kind === "close") {
              if (step.data) checkReply(bin(step.data));
              assert.equal(fe.step(), null, "a closed front end stays silent");
              break outer;
            } else {
              const c = step.credentials;
              assert.ok(!hasLineBreakOrNul(c.user) && !hasLineBreakOrNul(c.pass), "unsafe credentials");
              if (d.fail) {
                const reply = fe.authFailed({ status: "fail", message: d.message, wait: d.wait ? 1 : 0 });
                if (reply.kind === "send" || reply.kind === "close") {
                  checkReply(bin(reply.data ?? new Uint8Array()));
                }
                if (reply.kind === "close") break outer;
                continue;
              }
              coverage.logins++;
              const ok = {
                status: "ok" as const,
                server: "127.0.0.1",
                port: 4190,
                ...(d.user !== undefined ? { user: d.user } : {}),
                ...(d.pass !== undefined ? { pass: d.pass } : {}),
              };
              const pass = d.pass ?? c.pass;
              const login = fe.backendLogin(ok, c);
              for (const data of d.backend) {
                let s = login.receive(data);
                let guard = 0;
                while (s !== null) {
                  assert.ok(++guard < 10, "backend login loops");
                  if (s.kind === "send") {
                    assert.match(
                      bin(s.data),
                      /^AUTHENTICATE "PLAIN" ("[A-Za-z0-9+/=]*"|\{\d+\+\}\r\n[A-Za-z0-9+/=]+)\r\n$/,
                    );
                    s = login.receive(new Uint8Array(0));
                  } else {
                    if (s.kind === "done") coverage.done++;
                    if (s.kind === "fail" && pass.length >= 4) {
                      assert.ok(!s.log.includes(pass), "password in log");
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
      },
    ),
  ));

Deno.test("sieve fuzz: the generators reach the backend login", () => {
  console.log(`sieve fuzz coverage: ${JSON.stringify(coverage)}`);
  assert.ok(coverage.logins > 0, "no case reached a backend login");
});
