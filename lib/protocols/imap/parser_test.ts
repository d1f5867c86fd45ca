import assert from "node:assert/strict";
import { fromBinary } from "../../util/bytes.ts";
import { ImapCommandParser, type ImapParseEvent } from "./parser.ts";

/** Feeds `input` (binary string) in the given chunk size and collects every event. */
function parse(input: string, chunk = input.length || 1, limit = 4096): ImapParseEvent[] {
  const parser = new ImapCommandParser(limit);
  const events: ImapParseEvent[] = [];
  for (let i = 0; i < input.length; i += chunk) {
    parser.push(fromBinary(input.slice(i, i + chunk)));
    for (let e = parser.next(); e !== null; e = parser.next()) events.push(e);
  }
  return events;
}

function command(tag: string, verb: string, ...args: string[]): ImapParseEvent {
  return { kind: "command", tag, verb, args } as ImapParseEvent;
}

Deno.test("imap parser: commands with atoms, case-insensitive verbs", () => {
  assert.deepEqual(parse("a01 NOOP\r\n"), [command("a01 ", "NOOP")]);
  assert.deepEqual(parse("a.B-c_9 login user pass\r\n"), [command("a.B-c_9 ", "LOGIN", "user", "pass")]);
  assert.deepEqual(parse("t   CaPaBiLiTy   x\n"), [command("t ", "CAPABILITY", "x")]);
  assert.deepEqual(parse("1 AUTHENTICATE PLAIN\r\n2 LOGOUT\r\n3 STARTTLS\r\n"), [
    command("1 ", "AUTHENTICATE", "PLAIN"),
    command("2 ", "LOGOUT"),
    command("3 ", "STARTTLS"),
  ]);
});

Deno.test("imap parser: quoted strings keep spaces and unescape backslashes", () => {
  assert.deepEqual(parse('a LOGIN "us er" "p\\"a\\\\ss"\r\n'), [command("a ", "LOGIN", "us er", 'p"a\\ss')]);
  assert.deepEqual(parse('a LOGIN "" ""\r\n'), [command("a ", "LOGIN", "", "")]);
  // In atoms quotes and backslashes are ordinary bytes.
  assert.deepEqual(parse('a LOGIN us"er p\\w\r\n'), [command("a ", "LOGIN", 'us"er', "p\\w")]);
  // A closing quote ends the argument; what follows starts another one.
  assert.deepEqual(parse('a LOGIN "x"y z\r\n'), [command("a ", "LOGIN", "x", "y", "z")]);
});

Deno.test("imap parser: synchronising literal asks for a continuation", () => {
  assert.deepEqual(parse("a LOGIN {4}\r\nuser {6}\r\nse cr\n\r\n"), [
    { kind: "literal" },
    { kind: "literal" },
    command("a ", "LOGIN", "user", "se cr\n"),
  ]);
  // Backslashes inside literals are literal; literal bytes are arbitrary.
  assert.deepEqual(parse('a LOGIN {3}\r\n\\"\0 "pw"\r\n'), [
    { kind: "literal" },
    command("a ", "LOGIN", '\\"\0', "pw"),
  ]);
});

Deno.test("imap parser: non-synchronising literal needs no continuation", () => {
  assert.deepEqual(parse("a LOGIN {4+}\r\nuser {2+}\r\npw\r\n"), [command("a ", "LOGIN", "user", "pw")]);
});

Deno.test("imap parser: {0} is an empty literal (divergence from nginx)", () => {
  assert.deepEqual(parse("a LOGIN user {0}\r\n\r\n"), [
    { kind: "literal" },
    command("a ", "LOGIN", "user", ""),
  ]);
  assert.deepEqual(parse("a LOGIN {}\r\n")[0], { kind: "invalid", tag: "a ", close: false });
});

Deno.test("imap parser: only SP, CR or LF may follow literal data", () => {
  assert.deepEqual(parse("a LOGIN {2+}\r\nabX\r\n"), [{ kind: "invalid", tag: "a ", close: false }]);
  // The rejected line ends in `+}`: a literal follows that cannot be skipped, so close.
  assert.deepEqual(parse("a LOGIN {2+}\r\nab{2+}\r\ncd\r\n")[0], { kind: "invalid", tag: "a ", close: true });
});

Deno.test("imap parser: tag rules", () => {
  const invalidNoTag = { kind: "invalid", tag: undefined, close: false };
  assert.deepEqual(parse("\r\n"), [invalidNoTag]);
  assert.deepEqual(parse("a*b NOOP\r\n"), [invalidNoTag]);
  assert.deepEqual(parse("abc\r\n"), [invalidNoTag]);
  assert.deepEqual(parse(`${"t".repeat(32)} NOOP\r\n`), [command(`${"t".repeat(32)} `, "NOOP")]);
  assert.deepEqual(parse(`${"t".repeat(33)} NOOP\r\n`), [invalidNoTag]);
  // Quirk: a leading space is a one-character tag.
  assert.deepEqual(parse(" NOOP\r\n"), [command(" ", "NOOP")]);
  // CR/LF before the verb: tagged.
  assert.deepEqual(parse("a \r\n"), [{ kind: "invalid", tag: "a ", close: false }]);
});

Deno.test("imap parser: unknown verbs, non-letters, too many arguments, bare CR", () => {
  const bad = { kind: "invalid", tag: "a ", close: false };
  for (
    const line of ["a SELECT INBOX", "a ID NIL", "a NO0P", "a LOGIN a b c d", "a NOOP\rx", 'a LOGIN "a\\\r']
  ) {
    assert.deepEqual(parse(`${line}\r\nb NOOP\r\n`), [bad, command("b ", "NOOP")], JSON.stringify(line));
  }
});

Deno.test("imap parser: a rejected line ending in +} asks to close", () => {
  assert.deepEqual(parse("a03 FOOBAR {10+}\r\n"), [{ kind: "invalid", tag: "a03 ", close: true }]);
  assert.deepEqual(parse("a03 FOOBAR {10+}\n"), [{ kind: "invalid", tag: "a03 ", close: true }]);
  assert.deepEqual(parse("a03 FOOBAR {10}\r\n"), [{ kind: "invalid", tag: "a03 ", close: false }]);
});

Deno.test("imap parser: quoted string cut by CRLF ends the argument; the flag does not leak", () => {
  assert.deepEqual(parse('a LOGIN "user pass\r\nb LOGIN x y\r\n'), [
    command("a ", "LOGIN", "user pass"),
    command("b ", "LOGIN", "x", "y"),
  ]);
});

Deno.test("imap parser: SASL response lines", () => {
  const parser = new ImapCommandParser(4096);
  parser.push(fromBinary("1 AUTHENTICATE PLAIN\r\nAGEAYg==\r\n2 NOOP\r\n"));
  assert.deepEqual(parser.next(), command("1 ", "AUTHENTICATE", "PLAIN"));
  parser.expectResponse();
  assert.deepEqual(parser.next(), { kind: "response", args: ["AGEAYg=="] });
  assert.deepEqual(parser.next(), command("2 ", "NOOP"));
  parser.push(fromBinary("\r\n"));
  parser.expectResponse();
  assert.deepEqual(parser.next(), { kind: "response", args: [""] });
});

Deno.test("imap parser: chunking does not change events", () => {
  const input = 'a LOGIN {4}\r\nuser "p w"\r\nb NOOP\r\nbad\r\nc LOGIN {2+}\r\nxy z\r\n d CAPABILITY\n';
  const whole = parse(input);
  for (const size of [1, 2, 3, 7]) assert.deepEqual(parse(input, size), whole, `chunk ${size}`);
});

Deno.test("imap parser: a command that does not fit the limit is too long", () => {
  assert.deepEqual(parse(`a LOGIN ${"x".repeat(100)}\r\n`, 1000, 64), [{ kind: "too-long", tag: "a " }]);
  assert.deepEqual(parse("x".repeat(100), 1000, 64), [{ kind: "too-long", tag: undefined }]);
  // Literal data counts: the whole command must fit.
  assert.deepEqual(parse(`a LOGIN {60}\r\n${"x".repeat(60)} p\r\n`, 1000, 64), [
    { kind: "literal" },
    { kind: "too-long", tag: "a " },
  ]);
  // Exactly the limit is fine; pipelined commands each get the whole limit (divergence).
  const cmd = `a LOGIN ${"x".repeat(64 - 13)} pw\r\n`;
  assert.equal(cmd.length, 64);
  assert.deepEqual(parse(cmd + cmd + cmd, 1000, 64).map((e) => e.kind), ["command", "command", "command"]);
  // A rejected line that does not end within the limit is too long as well.
  assert.deepEqual(parse(`a BAD ${"x".repeat(100)}`, 1000, 64), [{ kind: "too-long", tag: "a " }]);
});

Deno.test("imap parser: dead after too long; take() and discard()", () => {
  const parser = new ImapCommandParser(16);
  parser.push(fromBinary("x".repeat(20)));
  assert.equal(parser.next()?.kind, "too-long");
  parser.push(fromBinary("a NOOP\r\n"));
  assert.equal(parser.next(), null);

  const p2 = new ImapCommandParser(4096);
  p2.push(fromBinary("a LOGIN u p\r\nb SELECT INBOX\r\npartial"));
  assert.equal(p2.next()?.kind, "command");
  assert.equal(new TextDecoder().decode(p2.take()), "b SELECT INBOX\r\npartial");
  assert.equal(p2.buffered, 0);

  const p3 = new ImapCommandParser(4096);
  p3.push(fromBinary("a STARTTLS\r\nb LOGIN u p\r\n"));
  assert.equal(p3.next()?.kind, "command");
  p3.discard();
  assert.equal(p3.next(), null);
  p3.push(fromBinary("c NOOP\r\n"));
  assert.deepEqual(p3.next(), command("c ", "NOOP"));
});

Deno.test("imap parser: overflowing literal length is a parse error", () => {
  assert.deepEqual(parse("a LOGIN {99999999999999999999}\r\n"), [{
    kind: "invalid",
    tag: "a ",
    close: false,
  }]);
});

Deno.test("imap parser: never throws on random input", () => {
  let seed = 42;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const alphabet = 'aA1 {}+"\\\r\n\0LOGINOPAUTHENTICATE0123456789';
  for (let round = 0; round < 300; round++) {
    const parser = new ImapCommandParser(1 + Math.floor(rand() * 128));
    for (let k = 0; k < 20; k++) {
      let chunk = "";
      const n = Math.floor(rand() * 40);
      for (let i = 0; i < n; i++) {
        chunk += rand() < 0.1
          ? String.fromCharCode(Math.floor(rand() * 256))
          : alphabet[Math.floor(rand() * alphabet.length)];
      }
      parser.push(fromBinary(chunk));
      if (rand() < 0.2) parser.expectResponse();
      for (let e = parser.next(), guard = 0; e !== null && guard < 1000; e = parser.next(), guard++) {
        if (e.kind === "command") assert.ok(e.args.length <= 3);
      }
      assert.ok(parser.buffered <= 1000);
    }
  }
});
