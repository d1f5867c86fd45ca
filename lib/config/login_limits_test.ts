import assert from "node:assert/strict";
import { loadConfigText } from "./load.ts";

const SERVER = '[[server]]\nlisten = "127.0.0.1:19143"\nprotocol = "imap"\nauth_http = "127.0.0.1:9"\n';

Deno.test("[login_limits]: absent = null; an empty table takes the issue's defaults", () => {
  const none = loadConfigText(SERVER, "t.toml");
  assert.ok(none.ok);
  assert.equal(none.config.login_limits, null);
  const empty = loadConfigText(`[login_limits]\n${SERVER}`, "t.toml");
  assert.ok(empty.ok);
  assert.deepEqual(empty.config.login_limits, {
    ip: { failures: 10, window: 600_000, block: 900_000 },
    user: { failures: 10, window: 3_600_000, block: 900_000 },
    delay: [2000, 4000, 8000, 15000],
    exempt: [],
    known_ip: 30 * 86_400_000,
  });
});

Deno.test("[login_limits]: values, false and errors", () => {
  const ok = loadConfigText(
    '[login_limits]\nip = { failures = 3, window = "1m", block = 60 }\nuser = false\ndelay = []\n' +
      'exempt = ["10.0.0.0/8", "2001:db8::/32"]\nknown_ip = "1y"\n' + SERVER,
    "t.toml",
  );
  assert.ok(ok.ok);
  assert.deepEqual(ok.config.login_limits, {
    ip: { failures: 3, window: 60_000, block: 60_000 },
    user: null,
    delay: [],
    exempt: ["10.0.0.0/8", "2001:db8::/32"],
    known_ip: 365 * 86_400_000,
  });
  const bad = loadConfigText(
    '[login_limits]\nip = { failures = 3 }\ndelay = ["2x"]\nexempt = ["webmail.example"]\n' + SERVER,
    "t.toml",
  );
  assert.ok(!bad.ok);
  const text = bad.errors.join("\n");
  assert.match(text, /missing "window"/);
  assert.match(text, /invalid duration "2x"/);
  assert.match(text, /webmail\.example/);
});
