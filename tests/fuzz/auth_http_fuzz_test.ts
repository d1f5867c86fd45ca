/**
 * Property tests of the auth_http codec: the reply parser on hostile replies in any
 * chunking, the decision taken from them, and the request builder with hostile
 * credentials (no header injection).
 */

import assert from "node:assert/strict";
import { isIP } from "node:net";
import fc from "fast-check";
import {
  AUTH_REPLY_HEAD_LIMIT,
  AuthReplyParser,
  buildAuthRequest,
  decide,
  type ParsedReply,
  type ReplyError,
} from "../../lib/auth/http_codec.ts";
import type { AuthRequest } from "../../lib/auth/types.ts";
import { bin, bytesOf, check, chunked } from "./fuzz_support.ts";

const NAMES = [
  "Auth-Status",
  "Auth-Server",
  "Auth-Port",
  "Auth-User",
  "Auth-Pass",
  "Auth-Wait",
  "Auth-Error-Code",
  "auth-status",
  "X-Other",
  "Content-Length",
];
const VALUES = [
  "OK",
  "WAIT",
  "Invalid login",
  "127.0.0.1",
  "010.0.0.1",
  "::1",
  "fe80::1%eth0",
  "999.1.1.1",
  "143",
  "0",
  "65536",
  "99999999999999999999",
  "1",
  "alice",
  "",
  " spaced  value ",
];

const headerLine = fc
  .tuple(
    fc.oneof(fc.constantFrom(...NAMES), fc.stringMatching(/^[A-Za-z0-9-]{0,12}$/)),
    fc.constantFrom(":", ": ", ":   ", "", " :"),
    fc.oneof(fc.constantFrom(...VALUES), fc.uint8Array({ maxLength: 30 }).map(bin)),
    fc.constantFrom("\r\n", "\n", "\r", "\r\r\n"),
  )
  .map(([name, colon, value, end]) => name + colon + value + end);

/** Replies an auth server (or something pretending to be one) might send. */
const reply = fc
  .tuple(
    fc.constantFrom("HTTP/1.0 200 OK\r\n", "HTTP/1.1 500 Oops\n", "HTTP", "", "HTTP/\r\r\n", "garbage\r\n"),
    fc.array(headerLine, { maxLength: 12 }),
    fc.constantFrom("\r\n", "\n", "", "body after the head"),
    fc.oneof(fc.constant(""), fc.nat({ max: 3000 }).map((n) => "X-Pad: " + "p".repeat(n) + "\r\n")),
  )
  .map(([status, headers, end, pad]) => bytesOf(status + pad + headers.join("") + end));

function run(chunks: Uint8Array[]): ParsedReply | "more" | ReplyError {
  const parser = new AuthReplyParser();
  let result: ParsedReply | "more" | ReplyError = "more";
  for (const c of chunks) result = parser.feed(c);
  return result;
}

Deno.test("fuzz: auth_http reply parser ignores chunking, stops at 1 KiB, decisions are safe", () =>
  check(
    "auth_http reply",
    fc.property(
      chunked(fc.oneof(reply, fc.uint8Array({ maxLength: 1500 }))),
      fc.constantFrom("imap", "pop3", "smtp") as fc.Arbitrary<"imap" | "pop3" | "smtp">,
      fc.boolean(),
      (chunks, protocol, hasPassword) => {
        const result = run(chunks);
        const total = chunks.reduce((n, c) => n + c.length, 0);
        // The head never takes more than nginx's 1024-byte buffer: past that it is an error.
        if (total >= AUTH_REPLY_HEAD_LIMIT) assert.notEqual(result, "more");
        const whole = new Uint8Array(total);
        let at = 0;
        for (const c of chunks) {
          whole.set(c, at);
          at += c.length;
        }
        assert.deepEqual(run([whole]), result, "result depends on how the reply was split");
        if (result === "more" || "error" in result) return;
        const decision = decide(result, protocol, { hasPassword, peer: "127.0.0.1:9000" });
        switch (decision.status) {
          case "ok":
            assert.ok(isIP(decision.server) !== 0, `server ${decision.server} is not an IP`);
            assert.ok(Number.isInteger(decision.port) && decision.port >= 1 && decision.port <= 65535);
            break;
          case "fail":
          case "wait":
            assert.ok(decision.wait >= 0 && Number.isSafeInteger(decision.wait));
            break;
          case "error":
            // Reasons go to the log: printable ASCII only.
            assert.match(decision.reason, /^[\x20-\x7e]*$/);
        }
      },
    ),
  ));

const hostile = fc.oneof(
  fc.uint8Array({ maxLength: 40 }).map(bin),
  fc.array(fc.constantFrom("\r\n", "\r", "\n", "\0", "X-Injected: 1", "%", " ", "alice", "\xff"), {
    maxLength: 6,
  }).map((p) => p.join("")),
);

Deno.test("fuzz: auth_http requests carry hostile credentials without header injection", () =>
  check(
    "auth_http request",
    fc.property(
      hostile,
      hostile,
      hostile,
      fc.constantFrom("plain", "login", "apop", "cram-md5", "external", "none") as fc.Arbitrary<
        AuthRequest["method"]
      >,
      (user, pass, other, method) => {
        const req: AuthRequest = {
          protocol: "smtp",
          method,
          user,
          pass,
          salt: other,
          attempt: 1,
          clientIp: "127.0.0.1",
          clientPort: 1234,
          clientHost: other,
          smtp: { helo: other, from: other, to: other },
          sessionId: "s1",
        };
        const url = {
          raw: "http://127.0.0.1:9000/auth",
          transport: "tcp" as const,
          host: "127.0.0.1",
          port: 9000,
          uri: "/auth",
          hostHeader: "127.0.0.1",
        };
        const text = bin(buildAuthRequest(url, req, [["X-Key", "k"]]));
        assert.ok(text.endsWith("\r\n\r\n"));
        const lines = text.slice(0, -4).split("\r\n");
        assert.equal(lines[0], "GET /auth HTTP/1.0");
        for (const line of lines.slice(1)) {
          assert.match(line, /^[A-Za-z0-9-]+: [^\r\n]*$/, `malformed header line ${JSON.stringify(line)}`);
        }
        const names = lines.slice(1).map((l) => l.slice(0, l.indexOf(":")));
        assert.ok(!names.includes("X-Injected"), "a credential injected a header");
        assert.equal(names.filter((n) => n === "Auth-Pass").length, 1);
        const value = (name: string) => lines.find((l) => l.startsWith(name + ": "))!.slice(name.length + 2);
        const unescape = (v: string) =>
          v.replace(/%([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
        assert.equal(unescape(value("Auth-User")), user);
        assert.equal(unescape(value("Auth-Pass")), pass);
      },
    ),
  ));
