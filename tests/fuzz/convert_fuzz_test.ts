/**
 * Property tests of `mailproxy convert`: hostile nginx text never crashes or hangs the
 * converter and always yields valid TOML; in well-formed configs every directive is
 * either converted to its key or reported, never dropped.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { parse } from "smol-toml";
import { convertNginxConfig } from "../../lib/convert/mod.ts";
import { keyForDirective, knownDirectives } from "../../lib/convert/key_index.ts";
import type { IncludeReader } from "../../lib/convert/types.ts";
import { check } from "./fuzz_support.ts";

const NAMES = [...knownDirectives(), "mail", "server", "events", "include", "http", "location", "user"];

/** Every include resolves to the fuzz input itself, so loops and nesting are exercised too. */
function selfReader(text: string): IncludeReader {
  return () => ({ files: [{ path: "/fuzz/inc.conf", text }] });
}

const syntax = fc.array(
  fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...NAMES) },
    {
      weight: 5,
      arbitrary: fc.constantFrom(
        " ",
        "\n",
        "\t",
        ";",
        "{",
        "}",
        "{ ",
        "} ",
        '"',
        "'",
        "\\",
        "#",
        "$",
        "${x}",
        "on",
        "off",
        "143",
        "993 ssl",
        "10s",
        "4k",
        "\r\n",
      ),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 12 }) },
  ),
  { maxLength: 60 },
).map((parts) => parts.join(""));

Deno.test("fuzz: hostile nginx text never throws and always gives valid TOML or a syntax error", () =>
  check(
    "convert syntax",
    fc.property(syntax, fc.boolean(), (body, wrap) => {
      const text = wrap ? `mail {\n${body}\n}` : body;
      const r = convertNginxConfig(text, { file: "f.conf", baseDir: "/fuzz", readInclude: selfReader(text) });
      if (!r.ok) {
        assert.ok(r.errors.length > 0 && r.toml === "");
        for (const e of r.errors) assert.match(e, /^\S+(:\d+)?: /);
        return;
      }
      parse(r.toml);
      const listed = r.toml.match(/^# NOT CONVERTED \((\d+)\)/m);
      assert.equal(listed ? Number(listed[1]) : 0, r.reports.length);
    }),
  ));

const word = fc.oneof(
  fc.constantFrom("on", "off", "5s", "4k", "10", "auto", "plain", "login", "none", "TLSv1.2", "143", "all"),
  fc.constantFrom("127.0.0.1", "10.0.0.0/8", "unix:", "x.pem", "HIGH:!aNULL", "X-Key", "v2", "only", "a b"),
  fc.string({ maxLength: 8 }),
);

const directive = fc.record({
  name: fc.constantFrom(...knownDirectives(), "bogus_directive", "proxy_pass"),
  args: fc.array(word, { minLength: 0, maxLength: 3 }),
});

function quote(w: string): string {
  return `"${w.replace(/["\\]/g, "\\$&")}"`;
}

Deno.test("fuzz: every directive of a well-formed config is converted or reported, never dropped", () =>
  check(
    "convert coverage",
    fc.property(fc.array(directive, { maxLength: 12 }), fc.boolean(), (list, inServer) => {
      const lines = list.map((d) => `${d.name} ${d.args.map(quote).join(" ")};`);
      // Line n + 2 of the file holds list[n].
      const text = inServer
        ? `mail {\nserver {\n${lines.join("\n")}\nlisten 1;\n}\n}`
        : `mail {\n${lines.join("\n")}\nserver { listen 1; }\n}`;
      const offset = inServer ? 3 : 2;
      const r = convertNginxConfig(text, { file: "f.conf", baseDir: "/fuzz" });
      assert.ok(r.ok, r.errors.join("\n"));
      const doc = JSON.parse(JSON.stringify(parse(r.toml)));
      const table = inServer ? doc.server[0] : doc;
      list.forEach((d, i) => {
        const reported = r.reports.some((x) =>
          x.line === i + offset && x.directive.split(/[ ;]/)[0] === d.name
        );
        const spec = keyForDirective(d.name);
        // `ssl on|off` has no key of its own: it changes the listens, and leaves a comment.
        const converted = spec !== undefined && (spec.name in table || (d.name === "ssl" && !reported));
        assert.ok(reported || converted, `dropped: ${lines[i]}\n${r.toml}`);
      });
    }),
  ));
