/**
 * Property tests of the TOML config loader: arbitrary text and valid configs with
 * keys set to arbitrary values never throw, always give a config or a list of error
 * lines, and never echo a plaintext password.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { loadConfigText } from "../../lib/config/load.ts";
import { CONFIG_KEYS } from "../../lib/config/schema.ts";
import { check } from "./fuzz_support.ts";

const BASE = `auth_http = "http://127.0.0.1:9000/auth"
[[server]]
listen = "127.0.0.1:1143"
protocol = "imap"
`;

/** A TOML value of any type, rendered as text. */
const tomlValue: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.string({ maxLength: 20 }).map((s) => JSON.stringify(s)),
    fc.constantFrom(
      '"60s"',
      '"4k"',
      '"1h30m"',
      '"-1"',
      '"unix:/tmp/x"',
      '"[::1]:143"',
      '"all"',
      '"10.0.0.0/8"',
    ),
    fc.integer().map(String),
    fc.constantFrom("true", "false", "1e400", "nan", "-inf", "0x7fffffffffffffff", "1979-05-27"),
    fc.array(tie("value"), { maxLength: 3 }).map((a) => `[${a.join(", ")}]`),
    fc.array(fc.tuple(fc.constantFrom("allow", "deny", "imap", "x"), tie("value")), { maxLength: 2 })
      .map((kv) => `{ ${kv.map(([k, v]) => `${k} = ${v}`).join(", ")} }`),
  ),
})).value;

const keyNames = [...new Set(CONFIG_KEYS.map((k) => k.name))];

function checkResult(text: string, secret?: string): void {
  const result = loadConfigText(text, "fuzz.toml", { baseDir: "/nonexistent", ignoreBuildSupport: true });
  if (result.ok) {
    assert.ok(Array.isArray(result.config.servers));
    return;
  }
  assert.ok(result.errors.length > 0);
  for (const e of result.errors) {
    assert.equal(typeof e, "string");
    if (secret) assert.ok(!e.includes(secret), `error echoes the password: ${e}`);
  }
}

Deno.test("fuzz: config loader on arbitrary text never throws", () =>
  check(
    "config text",
    fc.property(
      fc.oneof(
        fc.string({ maxLength: 300 }),
        fc.string({ unit: "binary", maxLength: 200 }),
        fc.array(
          fc.tuple(fc.constantFrom(...keyNames, "[[server]]", "[admin]", "[static_auth]"), tomlValue),
          {
            maxLength: 6,
          },
        ).map((kv) => kv.map(([k, v]) => (k.startsWith("[") ? k : `${k} = ${v}`)).join("\n")),
      ),
      (text) => checkResult(text),
    ),
  ));

Deno.test("fuzz: every key of a valid config takes arbitrary values without a crash", () =>
  check(
    "config keys",
    fc.property(
      fc.array(fc.tuple(fc.constantFrom(...keyNames), tomlValue, fc.boolean()), {
        minLength: 1,
        maxLength: 4,
      }),
      (settings) => {
        // Top-level keys go before the first table; `true` puts them in the server instead.
        const top = settings.filter(([, , inServer]) => !inServer).map(([k, v]) => `${k} = ${v}`);
        const server = settings.filter(([, , inServer]) => inServer).map(([k, v]) => `${k} = ${v}`);
        const [head, tail] = BASE.split("[[server]]\n");
        checkResult([...top, head, "[[server]]", tail, ...server].join("\n"));
      },
    ),
  ));

Deno.test("fuzz: config errors never echo a plaintext password", () =>
  check(
    "config password",
    fc.property(fc.stringMatching(/^[A-Za-z0-9!#%&()*+,.:;<=>?@^_{|}~-]{6,30}$/), (password) => {
      const secret = `pw-${password}`;
      checkResult(
        `${BASE}auth = "static"\n[static_auth]\nbackend = "127.0.0.1:143"\n` +
          `[[static_auth.user]]\nname = "alice"\npassword = "${secret}"\n`,
        secret,
      );
    }),
  ));
