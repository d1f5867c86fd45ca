import assert from "node:assert/strict";
import { fromBinary, toBinary } from "../../util/bytes.ts";
import { Pop3CommandParser, type Pop3ParseEvent } from "./parser.ts";

/** Feeds `chunks` and collects every event; `responses` = lines to read as SASL responses (by index). */
function events(input: string | string[], limit = 8192, responses: number[] = []): Pop3ParseEvent[] {
  const parser = new Pop3CommandParser(limit);
  const out: Pop3ParseEvent[] = [];
  const next = () => {
    for (let e = parser.next(); e !== null; e = parser.next()) {
      out.push(e);
      if (responses.includes(out.length)) parser.expectResponse();
    }
  };
  if (responses.includes(0)) parser.expectResponse();
  for (const chunk of typeof input === "string" ? [input] : input) {
    parser.push(fromBinary(chunk));
    next();
  }
  return out;
}

const cmd = (
  verb: string,
  ...args: string[]
): Pop3ParseEvent => ({ kind: "command", verb, args } as Pop3ParseEvent);
const INVALID: Pop3ParseEvent = { kind: "invalid" };

Deno.test("pop3 parser: verbs are four letters, case-insensitive", () => {
  assert.deepEqual(events("user alice\r\nPaSs secret\r\nCAPA\r\nnoop\r\nQuit\r\n"), [
    cmd("USER", "alice"),
    cmd("PASS", "secret"),
    cmd("CAPA"),
    cmd("NOOP"),
    cmd("QUIT"),
  ]);
  assert.deepEqual(events("APOP bob 0123\r\nAUTH\r\nAUTH PLAIN\r\nSTLS\r\n"), [
    cmd("APOP", "bob", "0123"),
    cmd("AUTH"),
    cmd("AUTH", "PLAIN"),
    cmd("STLS"),
  ]);
});

Deno.test("pop3 parser: unknown verbs, other lengths, non-letters, empty lines are parser errors", () => {
  for (
    const line of ["STAT", "LIST 1", "RETR 1", "USERS a", "USR a", "US3R a", "", " USER a", "USER\ta", "\x00"]
  ) {
    assert.deepEqual(events(line + "\r\n"), [INVALID], JSON.stringify(line));
  }
});

Deno.test("pop3 parser: USER and PASS keep spaces; other commands split at spaces", () => {
  assert.deepEqual(events("USER a b \r\n"), [cmd("USER", "a b ")]);
  assert.deepEqual(events("USER    spaced  name\r\n"), [cmd("USER", "spaced  name")]);
  assert.deepEqual(events("PASS  pass word \r\n"), [cmd("PASS", "pass word ")]);
  assert.deepEqual(events("APOP  a   b\r\n"), [cmd("APOP", "a", "b")]);
  assert.deepEqual(events("AUTH PLAIN  x \r\n"), [cmd("AUTH", "PLAIN", "x")]);
  assert.deepEqual(events("USER \r\n"), [cmd("USER")], "spaces only: no argument");
});

Deno.test("pop3 parser: at most three arguments", () => {
  assert.deepEqual(events("AUTH a b c\r\n"), [cmd("AUTH", "a", "b", "c")]);
  assert.deepEqual(events("AUTH a b c d\r\nNOOP\r\n"), [INVALID, cmd("NOOP")]);
  assert.deepEqual(events("AUTH a b c \r\n"), [cmd("AUTH", "a", "b", "c")], "trailing space is fine");
});

Deno.test("pop3 parser: bare LF ends a line; CR must be followed by LF", () => {
  assert.deepEqual(events("NOOP\nUSER u\nQUIT\n"), [cmd("NOOP"), cmd("USER", "u"), cmd("QUIT")]);
  assert.deepEqual(events("NOOP\rX\r\nUSER a\rb\r\nNOOP\r\n"), [INVALID, INVALID, cmd("NOOP")]);
});

Deno.test("pop3 parser: NUL and 8-bit bytes stay inside arguments", () => {
  assert.deepEqual(events("USER a\x00b\r\nPASS \xff\xfe\r\n"), [
    cmd("USER", "a\x00b"),
    cmd("PASS", "\xff\xfe"),
  ]);
});

Deno.test("pop3 parser: SASL response lines split at spaces from the first byte", () => {
  assert.deepEqual(events("AUTH PLAIN\r\nAHUAcA==\r\nNOOP\r\n", 8192, [1]), [
    cmd("AUTH", "PLAIN"),
    { kind: "response", args: ["AHUAcA=="] },
    cmd("NOOP"),
  ]);
  assert.deepEqual(events("\r\n", 8192, [0]), [{ kind: "response", args: [""] }]);
  assert.deepEqual(events(" abc def\r\n", 8192, [0]), [{ kind: "response", args: ["", "abc", "def"] }]);
  assert.deepEqual(events("a b c d\r\n", 8192, [0]), [INVALID]);
  assert.deepEqual(events("QUIT\r\n", 8192, [0]), [{ kind: "response", args: ["QUIT"] }]);
});

Deno.test("pop3 parser: byte-at-a-time gives the same events as one chunk", () => {
  const input = "CAPA\r\nUSER a b \r\nSTAT\r\nPASS x\nAUTH a b c d\r\nAPOP u d\r\nNOOP\rQ\r\nQUIT\r\n";
  const whole = events(input);
  assert.equal(whole.length, 8);
  assert.deepEqual(events(input.split("")), whole);
  for (const size of [2, 3, 5, 7]) {
    const chunks: string[] = [];
    for (let i = 0; i < input.length; i += size) chunks.push(input.slice(i, i + size));
    assert.deepEqual(events(chunks), whole, `chunks of ${size}`);
  }
});

Deno.test("pop3 parser: a line up to the limit (CRLF included) fits; a longer one is too long", () => {
  const fits = "USER " + "u".repeat(20 - 7) + "\r\n";
  assert.equal(fits.length, 20);
  assert.deepEqual(events(fits, 20), [cmd("USER", "u".repeat(13))]);
  assert.deepEqual(events(fits.split(""), 20), [cmd("USER", "u".repeat(13))]);
  const long = "USER " + "u".repeat(14) + "\r\n";
  assert.deepEqual(events(long, 20), [{ kind: "too-long" }]);
  assert.deepEqual(events(long.split(""), 20), [{ kind: "too-long" }]);
  // An invalid line is too long as well when it does not fit.
  assert.deepEqual(events("X".repeat(30) + "\r\n", 20), [{ kind: "too-long" }]);
});

Deno.test("pop3 parser: every pipelined command may use the whole limit (compacting buffer)", () => {
  const line = "USER " + "u".repeat(13) + "\r\n"; // 20 bytes
  assert.deepEqual(events(line.repeat(5), 20), Array(5).fill(cmd("USER", "u".repeat(13))));
  assert.deepEqual(events("NOOP\r\n" + line, 20), [cmd("NOOP"), cmd("USER", "u".repeat(13))]);
});

Deno.test("pop3 parser: dead after too long; take() and discard()", () => {
  const p = new Pop3CommandParser(10);
  p.push(fromBinary("NOOP\r\nUSER 0123456789"));
  assert.deepEqual(p.next(), cmd("NOOP"));
  assert.deepEqual(p.next(), { kind: "too-long" });
  p.push(fromBinary("\r\nNOOP\r\n"));
  assert.equal(p.next(), null);
  assert.equal(p.buffered, 0);

  const q = new Pop3CommandParser(100);
  q.push(fromBinary("PASS x\r\nSTAT\r\nLIST"));
  assert.deepEqual(q.next(), cmd("PASS", "x"));
  assert.equal(toBinary(q.take()), "STAT\r\nLIST");
  assert.equal(q.next(), null);

  q.push(fromBinary("STLS\r\nUSER injected\r\n"));
  assert.deepEqual(q.next(), cmd("STLS"));
  q.discard();
  assert.equal(q.next(), null);
  q.push(fromBinary("NOOP\r\n"));
  assert.deepEqual(q.next(), cmd("NOOP"));
});

Deno.test("pop3 parser: never throws on random input", () => {
  let seed = 42;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const alphabet = "USERPASQITCAHNOLuser \r\n\x00\xff+=/ab";
  for (let round = 0; round < 200; round++) {
    const p = new Pop3CommandParser(1 + Math.floor(rand() * 64));
    for (let i = 0; i < 20; i++) {
      let chunk = "";
      for (let n = Math.floor(rand() * 16); n > 0; n--) {
        chunk += alphabet[Math.floor(rand() * alphabet.length)];
      }
      p.push(fromBinary(chunk));
      if (rand() < 0.2) p.expectResponse();
      for (let e = p.next(); e !== null; e = p.next()) {
        assert.ok(["command", "response", "invalid", "too-long"].includes(e.kind));
      }
    }
  }
});
