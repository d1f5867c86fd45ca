import assert from "node:assert/strict";
import { fromBinary } from "../../util/bytes.ts";
import { commandArguments, lineVerb, responseArguments } from "./line_arguments.ts";

const line = (s: string) => fromBinary(s);

Deno.test("line arguments: the verb is letters ended by SP, CR or LF, upper-cased", () => {
  assert.deepEqual(lineVerb(line("user bob\r\n")), { verb: "USER", end: 4 });
  assert.deepEqual(lineVerb(line("StartTLS\n")), { verb: "STARTTLS", end: 8 });
  assert.deepEqual(lineVerb(line("\r\n")), { verb: "", end: 0 });
  assert.equal(lineVerb(line("US3R x\r\n")), null);
  assert.equal(lineVerb(line("USER\tx\r\n")), null);
});

Deno.test("line arguments: spaces split, CR needs LF, a bare LF ends the line", () => {
  const l = line("MAIL  FROM:<a>   SIZE=1 \r\n");
  assert.deepEqual(commandArguments(l, 4, { maxArgs: 11 }), { args: ["FROM:<a>", "SIZE=1"], lastArgEnd: 23 });
  assert.deepEqual(commandArguments(line("NOOP\n"), 4, { maxArgs: 3 }), { args: [], lastArgEnd: 0 });
  assert.deepEqual(commandArguments(line("QUIT\r\n"), 4, { maxArgs: 3 }), { args: [], lastArgEnd: 0 });
  assert.equal(commandArguments(line("QUIT\rx\n"), 4, { maxArgs: 3 }), null);
  assert.equal(commandArguments(line("QUIT a\rb\n"), 4, { maxArgs: 3 }), null);
});

Deno.test("line arguments: more than maxArgs is an error; joinSpaces keeps one argument", () => {
  assert.equal(commandArguments(line("APOP a b c d\r\n"), 4, { maxArgs: 3 }), null);
  assert.deepEqual(commandArguments(line("USER a b \r\n"), 4, { maxArgs: 3, joinSpaces: true })?.args, [
    "a b ",
  ]);
});

Deno.test("line arguments: a response line is an argument from its first byte", () => {
  assert.deepEqual(responseArguments(line("\r\n"), 3)?.args, [""]);
  assert.deepEqual(responseArguments(line("dXNlcg== x\r\n"), 3)?.args, ["dXNlcg==", "x"]);
  assert.equal(responseArguments(line("abc\rd\n"), 3), null);
});
