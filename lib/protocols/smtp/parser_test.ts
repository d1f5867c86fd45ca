import assert from "node:assert/strict";
import { fromBinary } from "../../util/bytes.ts";
import { SmtpCommandParser, type SmtpParseEvent } from "./parser.ts";

/** Feeds `chunks` and collects every event. */
function parse(limit: number, ...chunks: string[]): SmtpParseEvent[] {
  const parser = new SmtpCommandParser(limit);
  const out: SmtpParseEvent[] = [];
  for (const chunk of chunks) {
    parser.push(fromBinary(chunk));
    for (let e = parser.next(); e !== null; e = parser.next()) out.push(e);
  }
  return out;
}

const cmd = (verb: string, args: string[], line: string): SmtpParseEvent =>
  ({ kind: "command", verb, args, line }) as SmtpParseEvent;
const INVALID: SmtpParseEvent = { kind: "invalid" };

Deno.test("smtp parser: verbs are case-insensitive, args split on runs of spaces", () => {
  assert.deepEqual(parse(4096, "ehlo client.example\r\n"), [
    cmd("EHLO", ["client.example"], "ehlo client.example"),
  ]);
  assert.deepEqual(parse(4096, "MAIL FROM:<a@b>  SIZE=100   \r\n"), [
    cmd("MAIL", ["FROM:<a@b>", "SIZE=100"], "MAIL FROM:<a@b>  SIZE=100"),
  ]);
  assert.deepEqual(parse(4096, "NOOP\n", "rset\r\n", "StartTLS\r\n"), [
    cmd("NOOP", [], "NOOP"),
    cmd("RSET", [], "rset"),
    cmd("STARTTLS", [], "StartTLS"),
  ]);
  // Tabs are argument bytes, not separators.
  assert.deepEqual(parse(4096, "HELO a\tb\r\n"), [cmd("HELO", ["a\tb"], "HELO a\tb")]);
});

Deno.test("smtp parser: unknown verbs, empty lines and bad CR are invalid and skipped to LF", () => {
  for (
    const line of [
      "DATA\r\n",
      "BDAT 10 LAST\r\n",
      "XCLIENT ADDR=1.2.3.4\r\n",
      "\r\n",
      "LHLO x\r\n",
      "HEL0 x\r\n",
    ]
  ) {
    assert.deepEqual(parse(4096, line), [INVALID], JSON.stringify(line));
  }
  assert.deepEqual(parse(4096, " HELO x\r\n"), [INVALID], "a leading space");
  assert.deepEqual(
    parse(4096, "HELO x\ry\r\nNOOP\r\n"),
    [INVALID, cmd("NOOP", [], "NOOP")],
    "CR not before LF",
  );
  // An invalid line split across reads is answered once, when its LF arrives.
  assert.deepEqual(parse(4096, "FOO bar", " baz", "\r\nQUIT\r\n"), [INVALID, cmd("QUIT", [], "QUIT")]);
});

Deno.test("smtp parser: at most 11 arguments", () => {
  const eleven = Array.from({ length: 11 }, (_, i) => `a${i}`);
  assert.deepEqual(parse(4096, `RCPT ${eleven.join(" ")}\r\n`), [
    cmd("RCPT", eleven, `RCPT ${eleven.join(" ")}`),
  ]);
  assert.deepEqual(parse(4096, `RCPT ${eleven.join(" ")} a11\r\n`), [INVALID]);
  // Trailing spaces after the 11th argument are fine.
  assert.equal(parse(4096, `RCPT ${eleven.join(" ")}   \r\n`)[0].kind, "command");
});

Deno.test("smtp parser: pipelined commands come out one at a time, byte-wise feeding changes nothing", () => {
  const input = "EHLO x\r\nAUTH PLAIN AGFsaWNlAHBhc3M=\r\nNOOP\r\n";
  const whole = parse(4096, input);
  assert.equal(whole.length, 3);
  assert.deepEqual(parse(4096, ...input.split("")), whole);
});

Deno.test("smtp parser: SASL response lines start in the argument state", () => {
  const parser = new SmtpCommandParser(4096);
  parser.push(fromBinary("AUTH LOGIN\r\ndXNlcg==\r\n\r\n x y\r\n"));
  assert.deepEqual(parser.next(), cmd("AUTH", ["LOGIN"], "AUTH LOGIN"));
  parser.expectResponse();
  assert.deepEqual(parser.next(), { kind: "response", args: ["dXNlcg=="] });
  parser.expectResponse();
  assert.deepEqual(parser.next(), { kind: "response", args: [""] }, "an empty line is one empty argument");
  parser.expectResponse();
  assert.deepEqual(parser.next(), { kind: "response", args: ["", "x", "y"] }, "a leading space");
});

Deno.test("smtp parser: too long lines end the parser; a long invalid line too", () => {
  assert.deepEqual(parse(16, "HELO 0123456789abc\r\n"), [{ kind: "too-long" }]);
  assert.deepEqual(parse(16, "XXXX 0123456789abc\r\n"), [{ kind: "too-long" }]);
  // Exactly the limit (CRLF included) fits.
  assert.deepEqual(parse(16, "HELO 012345678\r\n"), [
    cmd("HELO", ["012345678"], "HELO 012345678"),
  ]);
  const parser = new SmtpCommandParser(8);
  parser.push(fromBinary("HELO abcdefgh\r\n"));
  assert.deepEqual(parser.next(), { kind: "too-long" });
  parser.push(fromBinary("NOOP\r\n"));
  assert.equal(parser.next(), null, "dead after too-long");
});

Deno.test("smtp parser: every command may use the whole limit wherever it starts (compacting buffer)", () => {
  const a = "HELO " + "a".repeat(9) + "\r\n"; // 16 bytes
  assert.equal(parse(16, a + a + a).length, 3);
  assert.ok(parse(16, a + a + a).every((e) => e.kind === "command"));
});

Deno.test("smtp parser: take() returns pipelined bytes, discard() drops them", () => {
  const parser = new SmtpCommandParser(4096);
  parser.push(fromBinary("RCPT TO:<a@b>\r\nDATA\r\nSubject: x\r\n"));
  assert.equal(parser.next()?.kind, "command");
  assert.equal(new TextDecoder().decode(parser.take()), "DATA\r\nSubject: x\r\n");
  assert.equal(parser.buffered, 0);
  parser.push(fromBinary("STARTTLS\r\nAUTH PLAIN x\r\n"));
  assert.equal(parser.next()?.kind, "command");
  parser.discard();
  assert.equal(parser.next(), null);
});

Deno.test("smtp parser: never throws on arbitrary bytes", () => {
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let round = 0; round < 200; round++) {
    const parser = new SmtpCommandParser(64);
    const bytes = Uint8Array.from({ length: 300 }, () => {
      const r = rnd();
      return r < 0.1 ? 10 : r < 0.2 ? 13 : r < 0.35 ? 32 : Math.floor(rnd() * 256);
    });
    parser.push(bytes);
    for (let i = 0; i < 400 && parser.next() !== null; i++) {
      if (i % 3 === 0) parser.expectResponse();
    }
  }
});
