import assert from "node:assert/strict";
import { fromBinary } from "../../util/bytes.ts";
import { quoted, responseEnd, SieveCommandParser, type SieveParseEvent } from "./parser.ts";

/** Pushes each chunk and collects every event until the parser needs more bytes. */
function parse(limit: number, ...chunks: string[]): SieveParseEvent[] {
  const p = new SieveCommandParser(limit);
  const out: SieveParseEvent[] = [];
  for (const chunk of chunks) {
    p.push(fromBinary(chunk));
    for (let e = p.next(); e !== null; e = p.next()) out.push(e);
  }
  return out;
}

const cmd = (verb: string, ...args: string[]): SieveParseEvent => ({ kind: "command", verb, args });

Deno.test("sieve parser: atoms, quoted strings with escapes, literals {N} and {N+}", () => {
  assert.deepEqual(parse(8192, "capability\r\nNoop\n"), [cmd("CAPABILITY"), cmd("NOOP")]);
  assert.deepEqual(parse(8192, 'AUTHENTICATE "PLAIN" "a\\"b\\\\c"\r\n'), [
    cmd("AUTHENTICATE", "PLAIN", 'a"b\\c'),
  ]);
  assert.deepEqual(parse(8192, 'PUTSCRIPT "s" {7+}\r\nkeep;\r\n\r\n'), [cmd("PUTSCRIPT", "s", "keep;\r\n")]);
  assert.deepEqual(parse(8192, "AUTHENTICATE {5}\r\nPLAIN {2}\r\nab\r\n"), [
    cmd("AUTHENTICATE", "PLAIN", "ab"),
  ]);
  assert.deepEqual(parse(8192, 'HAVESPACE "x" 1234\r\n'), [cmd("HAVESPACE", "x", "1234")]);
  assert.deepEqual(parse(8192, '""\r\n'), [{ kind: "invalid", reason: "bad command name" }]);
});

Deno.test("sieve parser: the same events however the bytes are split", () => {
  const input = 'NOOP "x"\r\nAUTHENTICATE "PLAIN" {12+}\r\nAGEAYgBjZGVm\r\nLOGOUT\r\n';
  const whole = parse(8192, input);
  assert.deepEqual(whole, [cmd("NOOP", "x"), cmd("AUTHENTICATE", "PLAIN", "AGEAYgBjZGVm"), cmd("LOGOUT")]);
  assert.deepEqual(parse(8192, ...input.split("")), whole);
  for (let cut = 1; cut < input.length; cut++) {
    assert.deepEqual(parse(8192, input.slice(0, cut), input.slice(cut)), whole, `cut at ${cut}`);
  }
});

Deno.test("sieve parser: malformed lines are consumed and reported, the next line parses", () => {
  assert.deepEqual(parse(8192, 'NOOP "a\r\nNOOP\r\n'), [
    { kind: "invalid", reason: "line break in a quoted string" },
    cmd("NOOP"),
  ]);
  assert.deepEqual(parse(8192, 'NOOP "\\n"\r\n'), [{
    kind: "invalid",
    reason: "bad escape in a quoted string",
  }]);
  assert.deepEqual(parse(8192, " NOOP\r\n"), [{ kind: "invalid", reason: "line starts with a space" }]);
  assert.deepEqual(parse(8192, "\r\n"), [{ kind: "invalid", reason: "empty line" }]);
  assert.deepEqual(parse(8192, "NOOP {x}\r\n"), [{ kind: "invalid", reason: "bad literal" }]);
  assert.deepEqual(parse(8192, 'NOOP "a"b\r\n'), [{
    kind: "invalid",
    reason: "no space after a quoted string",
  }]);
  assert.deepEqual(parse(8192, "NOOP\rX\r\n"), [{ kind: "invalid", reason: "CR without LF" }]);
  const long = `NOOP "${"a".repeat(1025)}"\r\n`;
  assert.deepEqual(parse(8192, long), [{ kind: "invalid", reason: "quoted string longer than 1024 octets" }]);
});

Deno.test("sieve parser: commands and literals beyond the limit end the session at once", () => {
  assert.deepEqual(parse(16, 'AUTHENTICATE "PLAIN" {100000+}\r\n'), [{ kind: "too-long" }]);
  assert.deepEqual(parse(64, "NOOP {99999999999}\r\n"), [{
    kind: "invalid",
    reason: "literal length too long",
  }]);
  assert.deepEqual(parse(16, "A".repeat(40)), [{ kind: "too-long" }]);
  assert.deepEqual(parse(16, "NOOP\r\n", "A".repeat(19)), [cmd("NOOP"), { kind: "too-long" }]);
  // A malformed line is skipped, but not without end: past the limit it is too long.
  assert.deepEqual(parse(2048, "NOOP " + "x".repeat(1100), "x".repeat(2000)), [{ kind: "too-long" }]);
  assert.deepEqual(parse(2048, "NOOP " + "x".repeat(1100) + "\r\nNOOP\r\n"), [
    { kind: "invalid", reason: "atom too long" },
    cmd("NOOP"),
  ]);
  // Exactly at the limit (CRLF not counted) is fine.
  assert.deepEqual(parse(16, `NOOP "${"a".repeat(9)}"\r\n`), [cmd("NOOP", "a".repeat(9))]);
  assert.deepEqual(parse(16, `NOOP "${"a".repeat(10)}"\r\n`), [{ kind: "too-long" }]);
});

Deno.test("sieve parser: response mode, take and discard", () => {
  const p = new SieveCommandParser(8192);
  p.expectResponse();
  p.push(fromBinary('"*"\r\nNOOP\r\n'));
  assert.deepEqual(p.next(), { kind: "response", args: ["*"] });
  assert.deepEqual(p.next(), cmd("NOOP"));
  p.push(fromBinary("LISTSCRIPTS\r\nPUTSCRIPT {3+}\r\nab"));
  assert.deepEqual(p.next(), cmd("LISTSCRIPTS"));
  assert.equal(p.next(), null);
  assert.equal(new TextDecoder().decode(p.take()), "PUTSCRIPT {3+}\r\nab");
  p.push(fromBinary("NOOP\r\n"));
  assert.deepEqual(p.next(), cmd("NOOP"), "take() starts a new line");
  p.push(fromBinary("NOOP\r\nNO"));
  p.discard();
  assert.equal(p.next(), null);
});

Deno.test("sieve responseEnd: capability lines, literals, the first OK/NO/BYE", () => {
  const enc = (s: string) => fromBinary(s);
  assert.equal(responseEnd(enc('"SASL" "PLAIN"\r\n')), null);
  assert.deepEqual(responseEnd(enc('"SASL" "PLAIN"\r\nOK "ready"\r\nmore')), { end: 28, kind: "OK" });
  assert.deepEqual(responseEnd(enc("NO (TRYLATER) {3}\r\nx\r\n\r\n")), { end: 24, kind: "NO" });
  assert.deepEqual(responseEnd(enc('"X" {6}\r\nOK\r\nab\r\nbye\r\n')), { end: 22, kind: "BYE" });
  assert.equal(responseEnd(enc("OKAY\r\n")), null);
  assert.equal(quoted('a"b\\c\r\nd'), '"a\\"b\\\\c d"');
});
