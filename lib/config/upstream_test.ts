import assert from "node:assert/strict";
import { HASH, loadErrors, loadOk } from "./testing.ts";

const POOL = `
[[upstream]]
name = "imap_main"
protocol = "imap"
hash = "user"
sticky = "15m"
health_check = { interval = "5s", timeout = "2s", fails = 2, passes = 2 }
server = [
  { address = "10.0.0.11:143", weight = 1 },
  { address = "10.0.0.12:143", weight = 2 },
  { address = "10.0.0.13:143", backup = true },
  { address = "10.0.0.14:143", state = "drain" },
]
`;

const SERVER = `auth_http = "http://127.0.0.1:9000/auth"
[[server]]
listen = "127.0.0.1:1143"
protocol = "imap"
upstream = "imap_main"
`;

Deno.test("upstream: the issue's example resolves with defaults", () => {
  const config = loadOk(SERVER + POOL);
  assert.equal(config.servers[0].upstream, "imap_main");
  const [u] = config.upstreams;
  assert.equal(u.name, "imap_main");
  assert.equal(u.protocol, "imap");
  assert.equal(u.hash, "user");
  assert.equal(u.sticky, 15 * 60_000);
  assert.equal(u.max_reconnects, 2);
  assert.deepEqual(u.health_check, { interval: 5000, timeout: 2000, fails: 2, passes: 2 });
  assert.equal(u.backend_tls, null);
  assert.deepEqual(u.servers.map((s) => [s.address, s.weight, s.backup, s.state]), [
    ["10.0.0.11:143", 1, false, "up"],
    ["10.0.0.12:143", 2, false, "up"],
    ["10.0.0.13:143", 1, true, "up"],
    ["10.0.0.14:143", 1, false, "drain"],
  ]);
});

Deno.test("upstream: unknown name in a server, with its line", () => {
  const errors = loadErrors(SERVER.replace('"imap_main"', '"imap_typo"') + POOL);
  assert.deepEqual(errors, [
    'proxy.toml:5: unknown upstream "imap_typo" in [[server]] #1 (defined: imap_main)',
  ]);
});

Deno.test("upstream: protocol mismatch between server and upstream", () => {
  const errors = loadErrors(SERVER.replace('protocol = "imap"', 'protocol = "pop3"') + POOL);
  assert.equal(errors.length, 1);
  assert.match(
    errors[0],
    /^proxy\.toml:5: upstream "imap_main" is imap but the server in \[\[server\]\] #1 is pop3/,
  );
});

Deno.test("upstream: duplicate addresses, duplicate names, only backups, no servers", () => {
  const errors = loadErrors(`${SERVER}
[[upstream]]
name = "imap_main"
protocol = "imap"
server = [{ address = "10.0.0.1:143" }, { address = "10.0.0.1:143" }]

[[upstream]]
name = "imap_main"
protocol = "imap"
server = [{ address = "10.0.0.2:143", backup = true }]

[[upstream]]
name = "empty"
protocol = "imap"
`);
  assert.equal(errors.length, 4, errors.join("\n"));
  assert.match(errors[0], /^proxy\.toml:10: duplicate server address "10\.0\.0\.1:143"/);
  assert.match(errors[1], /^proxy\.toml:12: upstream "imap_main" has only backup servers/);
  assert.match(errors[2], /^proxy\.toml:13: duplicate upstream "imap_main"/);
  assert.match(errors[3], /^proxy\.toml:17: upstream "empty" has no server/);
});

Deno.test("upstream: bad values are reported with the key", () => {
  const errors = loadErrors(`${SERVER}
[[upstream]]
name = "imap_main"
protocol = "imapx"
hash = "ring"
max_reconnects = 99
health_check = { interval = "often", fails = 0, pass = 1 }
server = [{ address = "mail.example:143", weight = 0, state = "sleeping" }]
`);
  const text = errors.join("\n");
  for (
    const re of [
      /"protocol"/,
      /"hash"/,
      /"max_reconnects"/,
      /interval/,
      /fails must be/,
      /unknown key "pass"/,
    ]
  ) {
    assert.match(text, re);
  }
  assert.match(text, /"address"/);
  assert.match(text, /"weight"/);
  assert.match(text, /"state"/);
});

Deno.test("upstream: static backends upstream:NAME, checked per protocol", () => {
  const base = `[static_auth]
backend = { imap = "upstream:imap_main", pop3 = "127.0.0.1:110" }
[[static_auth.user]]
name = "alice"
password = "${HASH}"
[[static_auth.user]]
name = "bob"
password = "${HASH}"
backend = { pop3 = "upstream:nope" }
[[server]]
listen = "127.0.0.1:1143"
protocol = "imap"
`;
  const errors = loadErrors(base + POOL);
  assert.equal(errors.length, 1, errors.join("\n"));
  assert.match(errors[0], /^proxy\.toml:9: unknown upstream "nope" in \[\[static_auth\.user\]\] #2/);
  const mismatch = loadErrors(base.replace('"upstream:nope"', '"upstream:imap_main"') + POOL);
  assert.match(mismatch[0], /upstream "imap_main" is imap, used as the pop3 backend/);
  const ok = loadOk(base.replace('"upstream:nope"', '"127.0.0.1:1110"') + POOL);
  assert.deepEqual(ok.static_auth.users[0].backend.imap, { upstream: "imap_main" });
});

Deno.test("upstream: a static server with a default upstream needs no static backend", () => {
  const config = loadOk(
    `[static_auth]
[[static_auth.user]]
name = "alice"
password = "${HASH}"
[[server]]
listen = "127.0.0.1:1143"
protocol = "imap"
upstream = "imap_main"
` + POOL,
  );
  assert.equal(config.servers[0].auth, "static");
});
