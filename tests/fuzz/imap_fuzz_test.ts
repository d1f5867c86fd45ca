/**
 * Property tests of the IMAP machines on hostile input: the command parser, the
 * front end driven like the session driver does, and the backend login dialogue.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import type { AuthOk } from "../../lib/auth/types.ts";
import { ImapBackendLogin } from "../../lib/protocols/imap/backend_login.ts";
import { ImapFrontend } from "../../lib/protocols/imap/frontend.ts";
import { ImapCommandParser, type ImapParseEvent } from "../../lib/protocols/imap/parser.ts";
import type { FrontendStep } from "../../lib/protocols/types.ts";
import { testServerConfig } from "../helpers/server_config.ts";
import { bin, bytesOf, check, chunked, hasLineBreakOrNul, replyLines, tokenStream } from "./fuzz_support.ts";

/** base64 of arbitrary bytes, with NUL/CR/LF likely (SASL PLAIN separators and injection attempts). */
const base64Token = fc
  .array(fc.oneof(fc.constantFrom("\0", "\r", "\n", "\xff", "alice", "pass"), fc.string({ maxLength: 6 })), {
    maxLength: 5,
  })
  .map((parts) => btoa(parts.join("")));

/** One IMAP argument in any of its forms, sometimes malformed. */
const argument = fc.oneof(
  fc.constantFrom("alice", "alicepass", "PLAIN", "LOGIN", "CRAM-MD5", "EXTERNAL", "x", ""),
  base64Token,
  fc.string({ maxLength: 8 }).map((v) => `"${v.replace(/["\\]/g, "\\$&")}"`),
  fc.uint8Array({ maxLength: 8 }).map((b) => `"${bin(b)}"`),
  fc.tuple(fc.uint8Array({ maxLength: 10 }).map(bin), fc.boolean(), fc.integer({ min: -1, max: 1 })).map(
    ([v, nonSync, skew]) => `{${Math.max(0, v.length + skew)}${nonSync ? "+" : ""}}\r\n${v}`,
  ),
);

/** A command line: mostly well-formed, in random case, with random arguments and line ends. */
const commandLine = fc
  .tuple(
    fc.oneof(
      fc.constantFrom("a1 ", "A.2 ", " ", "", "* ", "t_3-x "),
      fc.stringMatching(/^[A-Za-z0-9._-]{1,40} $/),
    ),
    fc.constantFrom(
      "LOGIN",
      "login",
      "AUTHENTICATE",
      "Authenticate",
      "CAPABILITY",
      "NOOP",
      "LOGOUT",
      "STARTTLS",
    ),
    fc.array(argument, { maxLength: 4 }),
    fc.constantFrom("\r\n", "\n", "\r\n", "\r\r\n", " \r\n"),
  )
  .map(([tag, verb, args, end]) => tag + [verb, ...args].join(" ") + end);

/** A client's byte stream: commands, SASL response lines and garbage. */
const imapClientStream = fc
  .array(
    fc.oneof(
      { weight: 6, arbitrary: commandLine },
      { weight: 2, arbitrary: base64Token.map((t) => t + "\r\n") },
      { weight: 1, arbitrary: fc.constantFrom("*\r\n", "=\r\n", "\r\n") },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }).map(bin) },
      { weight: 1, arbitrary: fc.nat({ max: 3000 }).map((n) => "x".repeat(n)) },
    ),
    { maxLength: 12 },
  )
  .map((parts) => bytesOf(parts.join("")));

const TOKENS = [
  "a1 ",
  "A2 ",
  "* ",
  "tag.with-odd_chars ",
  "LOGIN ",
  "login ",
  "AUTHENTICATE ",
  "PLAIN",
  "LOGIN",
  "CRAM-MD5",
  "EXTERNAL",
  "XOAUTH2",
  "CAPABILITY",
  "NOOP",
  "LOGOUT",
  "STARTTLS",
  "SELECT ",
  "alice ",
  "alicepass",
  '"quoted pass"',
  '"esc\\"aped"',
  "{5}\r\n",
  "{0}\r\n",
  "{3+}\r\n",
  "{99999999999}\r\n",
  "{18446744073709551616}\r\n",
  "{}\r\n",
  "AGFsaWNlAGFsaWNlcGFzcw==",
  "YWxpY2U=",
  "AGENCmIAcA==", // "\0a\r\nb\0p": CR LF inside a decoded login
  "*",
  "=",
];

/** Chars a tag may hold (nginx 1.21+). */
const TAG = "[A-Za-z0-9._-]{1,33}";
/** Every line the IMAP front end may write (nginx's replies, spec §4.0.1 and §4.2). */
const FRONTEND_LINE = new RegExp(
  [
    String.raw`^\* (OK IMAP4 ready|CAPABILITY [ -~]*|BYE|BAD invalid command|BAD internal server error)$`,
    String.raw`^\+ (OK|[A-Za-z0-9+/]*=*)$`,
    // nginx quirk kept on purpose: a line starting with a space has the tag " ".
    `^(${TAG} | )(OK completed|BAD invalid command|NO [^\\r\\n]*)$`,
    // nginx quirk: a bad AUTHENTICATE LOGIN user name gets a reply without any tag.
    "^BAD invalid command$",
  ].join("|"),
);

const EVENT_KINDS = new Set(["command", "response", "literal", "invalid", "too-long"]);

function drainParser(parser: ImapCommandParser, out: ImapParseEvent[]): void {
  for (let e = parser.next(); e !== null; e = parser.next()) {
    out.push(e);
    if (out.length > 100_000) assert.fail("parser emits events without consuming input");
  }
}

Deno.test("fuzz: IMAP parser never throws, stays within imap_client_buffer, ignores chunking", () =>
  check(
    "imap parser",
    fc.property(
      chunked(fc.oneof(imapClientStream, tokenStream(TOKENS))),
      fc.integer({ min: 1, max: 600 }),
      (chunks, limit) => {
        const parser = new ImapCommandParser(limit);
        const events: ImapParseEvent[] = [];
        for (const chunk of chunks) {
          parser.push(chunk);
          drainParser(parser, events);
          // Drained: whatever is left is one incomplete command, shorter than the limit.
          assert.ok(parser.buffered < limit, `buffered ${parser.buffered} >= limit ${limit}`);
        }
        for (const e of events) {
          assert.ok(EVENT_KINDS.has(e.kind));
          if (e.kind === "command") {
            assert.match(e.tag, /^([A-Za-z0-9._-]{1,33} | )$/);
            assert.ok(e.args.length <= 3);
          }
          if ("tag" in e && e.tag !== undefined) assert.ok(!/[\r\n]/.test(e.tag));
        }
        // The compacting buffer makes results independent of TCP segmentation.
        const whole = new ImapCommandParser(limit);
        const once: ImapParseEvent[] = [];
        const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
        let at = 0;
        for (const c of chunks) {
          all.set(c, at);
          at += c.length;
        }
        whole.push(all);
        drainParser(whole, once);
        assert.deepEqual(events, once);
      },
    ),
  ));

interface FrontendRun {
  text: string;
  closed: boolean;
}

/** Drives a front end like lib/session/session.ts: read only when step() wants bytes. */
function driveFrontend(
  frontend: ImapFrontend,
  chunks: Uint8Array[],
  decisions: { wait: boolean; message: string }[],
  limit: number,
): FrontendRun {
  let text = bin(frontend.greeting());
  let closed = false;
  let decision = 0;
  for (const chunk of chunks) {
    if (closed) break;
    frontend.receive(chunk);
    for (let step: FrontendStep | null = frontend.step(); step !== null; step = frontend.step()) {
      if (step.kind === "send") text += bin(step.data);
      else if (step.kind === "close") {
        text += step.data ? bin(step.data) : "";
        closed = true;
        break;
      } else if (step.kind === "starttls") {
        assert.fail("STARTTLS accepted although starttls is off");
      } else {
        const { user, pass } = step.credentials;
        // The injection guard: nothing that could end a command line reaches the backend.
        assert.ok(!hasLineBreakOrNul(user), `unsafe login ${JSON.stringify(user)}`);
        assert.ok(!hasLineBreakOrNul(pass), `unsafe password ${JSON.stringify(pass)}`);
        const d = decisions[decision++];
        if (d === undefined) {
          const login = frontend.backendLogin(
            { status: "ok", server: "127.0.0.1", port: 143 },
            step.credentials,
          );
          assert.ok(login);
          // Bytes held for the backend are bounded by the buffer plus the last read.
          assert.ok(frontend.takePipelined().length < limit + chunk.length);
          return { text, closed: true };
        }
        const reply = frontend.authFailed({ status: "fail", message: d.message, wait: d.wait ? 1 : 0 });
        if (reply.kind === "send") text += bin(reply.data);
        else if (reply.kind === "close") {
          text += reply.data ? bin(reply.data) : "";
          closed = true;
          break;
        }
      }
    }
  }
  if (closed) assert.equal(frontend.step(), null, "a closed front end must stay silent");
  return { text, closed };
}

Deno.test("fuzz: IMAP front end answers well-formed lines and never passes unsafe credentials", () =>
  check(
    "imap frontend",
    fc.property(
      chunked(fc.oneof(imapClientStream, tokenStream(TOKENS))),
      fc.integer({ min: 16, max: 2048 }),
      fc.integer({ min: 1, max: 8 }),
      fc.array(fc.record({ wait: fc.boolean(), message: fc.uint8Array({ maxLength: 40 }).map(bin) }), {
        maxLength: 4,
      }),
      (chunks, limit, maxErrors, decisions) => {
        const config = testServerConfig({
          imap_client_buffer: limit,
          max_errors: maxErrors,
          imap_auth: ["plain", "login", "cram-md5", "external"],
        });
        const frontend = new ImapFrontend(config, { secure: false, random: () => 0.5, now: () => 0 });
        const run = driveFrontend(frontend, chunks, decisions, limit);
        replyLines(run.text, FRONTEND_LINE, "imap frontend");
      },
    ),
  ));

const BACKEND_TOKENS = [
  "* OK ",
  "* OK [CAPABILITY IMAP4rev1 LITERAL+] ready\r\n",
  "* OK [CAPABILITY LITERAL-]\r\n",
  "* OK ready\r\n",
  "+ go\r\n",
  "+\r\n",
  "a1 OK done\r\n",
  "a1 NO bad\r\n",
  "* CAPABILITY IMAP4rev1\r\n",
  "* BYE\r\n",
  "secret",
  "\r\n",
];

Deno.test("fuzz: IMAP backend login sends well-formed LOGIN and never logs the password", () =>
  check(
    "imap backend login",
    fc.property(
      chunked(tokenStream(BACKEND_TOKENS, 20)),
      fc.integer({ min: 4, max: 512 }),
      fc.boolean(),
      fc.string({ unit: "binary-ascii", minLength: 1, maxLength: 20 }).filter((s) => !hasLineBreakOrNul(s)),
      (chunks, proxyBuffer, passError, pass) => {
        const secret = "secret" + pass;
        const ok: AuthOk = { status: "ok", server: "127.0.0.1", port: 143 };
        const login = new ImapBackendLogin(
          { proxy_buffer: proxyBuffer, proxy_pass_error_message: passError },
          ok,
          { method: "plain", user: "alice", pass: secret },
          "a1 ",
        );
        let ended = false;
        let sent = "";
        for (const chunk of chunks) {
          if (ended) break;
          let step = login.receive(chunk);
          let guard = 0;
          while (step !== null && !ended) {
            assert.ok(++guard < 1000, "backend login loops");
            if (step.kind === "send") {
              sent += bin(step.data);
              assert.ok(sent.endsWith("\r\n"));
              step = login.receive(new Uint8Array(0));
            } else {
              ended = true;
              if (step.kind === "fail") {
                assert.ok(!step.log.includes(secret), "password in a log line");
                if (!passError) assert.equal(bin(step.toClient), "* BAD internal server error\r\n");
              }
            }
          }
        }
        // What goes to the backend: LOGIN with literals only (the password never on a command line).
        if (sent !== "") {
          assert.match(
            sent,
            /^a1 LOGIN \{5\+?\}\r\n(alice \{\d+\+?\}\r\n(secret[^]*\r\n)?)?$/,
            JSON.stringify(sent),
          );
        }
        assert.equal(bin(login.internalError()), "* BAD internal server error\r\n");
      },
    ),
  ));

Deno.test("fuzz: IMAP support — the property checks can fail", () => {
  // Guards against a vacuous suite: the line check rejects a reply with a bare LF.
  assert.throws(() => replyLines("a1 OK\ncompleted\r\n", FRONTEND_LINE, "self-test"));
  assert.throws(() => replyLines("a1 OK completed", FRONTEND_LINE, "self-test"));
  assert.ok(hasLineBreakOrNul("a\0"));
  assert.equal(bin(bytesOf("\xff\x00")), "\xff\x00");
});
