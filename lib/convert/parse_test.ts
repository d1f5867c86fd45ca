import assert from "node:assert/strict";
import { tokenize } from "./lexer.ts";
import { type Directive, directiveText, parseNginx } from "./parse.ts";

function words(text: string): string[] {
  const r = tokenize(text);
  if (!r.ok) assert.fail(`${r.line}: ${r.error}`);
  return r.tokens.map((t) => t.type === "word" ? t.value : t.type === "comment" ? `#${t.text}` : t.type);
}

function parseOk(text: string): Directive[] {
  const r = parseNginx(text, "t.conf");
  if (!r.ok) assert.fail(r.error);
  return r.directives;
}

function parseError(text: string): string {
  const r = parseNginx(text, "t.conf");
  if (r.ok) assert.fail("expected a syntax error");
  return r.error;
}

Deno.test("lexer: quotes, escapes and blanks as ngx_conf_read_token", () => {
  assert.deepEqual(words(`a "b c" 'd e';`), ["a", "b c", "d e", ";"]);
  assert.deepEqual(words(`x "q\\"uote" 'it\\'s' "back\\\\slash";`), [
    "x",
    'q"uote',
    "it's",
    "back\\slash",
    ";",
  ]);
  assert.deepEqual(words(`x "t\\tr\\rn\\n" "\\d";`), ["x", "t\tr\rn\n", "\\d", ";"]);
  // A backslash keeps a blank or ";" inside a bare word (and stays in it, as in nginx).
  assert.deepEqual(words("x a\\ b c\\;d;"), ["x", "a\\ b", "c\\;d", ";"]);
  assert.deepEqual(words("x\t\r\n  y ;"), ["x", "y", ";"]);
  assert.deepEqual(words(`x "";`), ["x", "", ";"]);
});

Deno.test("lexer: # starts a comment only at a word start; ${ does not open a block", () => {
  assert.deepEqual(words("a b#c; # note\n"), ["a", "b#c", ";", "# note"]);
  assert.deepEqual(words('a "#not" x;#c'), ["a", "#not", "x", ";", "#c"]);
  assert.deepEqual(words("a ${var}x;"), ["a", "${var}x", ";"]);
  assert.deepEqual(words("a b{ c; }"), ["a", "b", "{", "c", ";", "}"]);
  assert.deepEqual(words("a b}; }"), ["a", "b}", ";", "}"]);
});

Deno.test("lexer: errors carry nginx's wording and the line", () => {
  const r = tokenize('a "b"c;');
  assert.equal(r.ok, false);
  assert.deepEqual(r.ok ? null : [r.line, r.error], [1, 'unexpected "c"']);
  const open = tokenize('a\n"unterminated;\n\n');
  assert.deepEqual(open.ok ? null : open.error, 'unexpected end of file, expecting ";" or "}"');
});

Deno.test("parser: blocks, lines, and comments attached to their directives", () => {
  const [mail] = parseOk(`# about mail
mail { # trailing on the block line
    # before timeout
    # second line
    timeout 5s;   # after timeout
    imap_capabilities A # inside
        B;
    server {
        listen 143;
        # last in server
    } # after server
}
# end of file
`);
  assert.equal(mail.name, "mail");
  assert.deepEqual(mail.comments, [" about mail"]);
  assert.deepEqual(mail.trailing, [" trailing on the block line"]);
  const [timeout, caps, server] = mail.block!;
  assert.deepEqual([timeout.name, timeout.args, timeout.line], ["timeout", ["5s"], 5]);
  assert.deepEqual(timeout.comments, [" before timeout", " second line"]);
  assert.deepEqual(timeout.trailing, [" after timeout"]);
  assert.deepEqual(caps.args, ["A", "B"]);
  assert.deepEqual(caps.trailing, [" inside"]);
  assert.equal(server.line, 8);
  assert.deepEqual(server.endComments, [" last in server"]);
  assert.deepEqual(server.trailing, [" after server"]);
  assert.equal(server.block![0].file, "t.conf");
  const r = parseNginx("mail {}\n# end of file\n", "t.conf");
  assert.deepEqual(r.ok && r.endComments, [" end of file"]);
});

Deno.test("parser: structural errors, as nginx reports them", () => {
  assert.equal(parseError("a;\n;"), 't.conf:2: unexpected ";"');
  assert.equal(parseError("{ a; }"), 't.conf:1: unexpected "{"');
  assert.equal(parseError("a;\n}"), 't.conf:2: unexpected "}"');
  assert.equal(parseError("a b }"), 't.conf:1: unexpected "}"');
  assert.equal(parseError("mail {\n a;\n"), 't.conf:3: unexpected end of file, expecting "}"');
  assert.equal(parseError("a { b c }"), 't.conf:1: unexpected "}"');
});

Deno.test("parser: deep nesting does not overflow the stack", () => {
  const depth = 100_000;
  const text = "a {".repeat(depth) + "}".repeat(depth);
  let d = parseOk(text)[0];
  for (let i = 1; i < depth; i++) d = d.block![0];
  assert.equal(d.block!.length, 0);
});

Deno.test("directiveText quotes what needs quoting", () => {
  const [d] = parseOk(`smtp_capabilities "SIZE 10" 8BITMIME 'a"b' "";`);
  assert.equal(directiveText(d), 'smtp_capabilities "SIZE 10" 8BITMIME "a\\"b" "";');
  const [b] = parseOk("http { server { } }");
  assert.equal(directiveText(b), "http { … }");
});
