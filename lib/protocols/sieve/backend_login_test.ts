import assert from "node:assert/strict";
import { testServerConfig } from "../../../tests/helpers/server_config.ts";
import type { AuthOk } from "../../auth/types.ts";
import type { ServerConfig } from "../../config/types.ts";
import { encodeBase64 } from "../../sasl/base64.ts";
import { fromBinary, toBinary } from "../../util/bytes.ts";
import type { Credentials } from "../../types.ts";
import type { BackendStep } from "../types.ts";
import type { PreambleStep } from "../common/backend_preamble.ts";
import { SieveBackendLogin } from "./backend_login.ts";
import { sieveBackendPreamble } from "./backend_preamble.ts";

const OK: AuthOk = { status: "ok", server: "127.0.0.1", port: 4190 };
const CREDS: Credentials = { method: "plain", user: "alice", pass: "secret" };
const INTERNAL = 'BYE (TRYLATER) "Internal server error."\r\n';
const DOVECOT = '"IMPLEMENTATION" "Dovecot Pigeonhole"\r\n"SIEVE" "fileinto"\r\n"NOTIFY" "mailto"\r\n' +
  '"SASL" "PLAIN LOGIN"\r\n"STARTTLS"\r\n"VERSION" "1.0"\r\nOK "Dovecot ready."\r\n';

type Shown = { kind: "send" | "done"; data: string } | { kind: "fail"; data: string; log: string } | null;

function show(step: BackendStep | null): Shown {
  if (step === null) return null;
  if (step.kind === "send") return { kind: "send", data: toBinary(step.data) };
  if (step.kind === "done") return { kind: "done", data: toBinary(step.toClient) };
  return { kind: "fail", data: toBinary(step.toClient), log: step.log };
}

function login(overrides: Partial<ServerConfig> = {}, ok: AuthOk = OK, creds: Credentials = CREDS) {
  const machine = new SieveBackendLogin(testServerConfig(overrides), ok, creds);
  return (text: string) => show(machine.receive(fromBinary(text)));
}

const authenticate = (user: string, pass: string) =>
  `AUTHENTICATE "PLAIN" "${encodeBase64(`\0${user}\0${pass}`)}"\r\n`;

Deno.test("sieve backend: waits for the whole greeting, AUTHENTICATE PLAIN, relays the OK", () => {
  const rx = login();
  assert.equal(rx(DOVECOT.slice(0, 40)), null);
  assert.equal(rx(DOVECOT.slice(40, 60)), null);
  assert.deepEqual(rx(DOVECOT.slice(60)), { kind: "send", data: authenticate("alice", "secret") });
  assert.equal(rx(""), null);
  assert.deepEqual(rx('OK "Logged in."\r\n'), { kind: "done", data: 'OK "Logged in."\r\n' });
});

Deno.test("sieve backend: Auth-User/Auth-Pass, long tokens as a literal", () => {
  const rx = login({}, { ...OK, user: "bob", pass: "p2" });
  assert.deepEqual(rx(DOVECOT), { kind: "send", data: authenticate("bob", "p2") });
  const long = "x".repeat(2000);
  const rxLong = login({}, OK, { method: "plain", user: "alice", pass: long });
  const token = encodeBase64(`\0alice\0${long}`);
  assert.deepEqual(rxLong(DOVECOT), {
    kind: "send",
    data: `AUTHENTICATE "PLAIN" {${token.length}+}\r\n${token}\r\n`,
  });
});

Deno.test("sieve backend: bad greeting, refused login, proxy_pass_error_message, no password in logs", () => {
  const bad = login()('BYE "go away"\r\n');
  assert.deepEqual(bad, {
    kind: "fail",
    data: INTERNAL,
    log: 'upstream sent invalid response to greeting: "BYE "go away""',
  });
  const rx = login();
  rx(DOVECOT);
  const refused = rx('NO "secret is wrong"\r\n');
  assert.equal(refused?.kind, "fail");
  assert.equal(refused?.data, INTERNAL);
  assert.doesNotMatch((refused as { log: string }).log, /secret/);
  const echo = login();
  echo(DOVECOT);
  const token = encodeBase64("\0alice\0secret");
  const echoed = echo(`NO "bad token ${token}"\r\n`);
  assert.equal(echoed?.kind, "fail");
  assert.doesNotMatch((echoed as { log: string }).log, new RegExp(token.replace(/[+/=]/g, ".")));
  const pass = login({ proxy_pass_error_message: true });
  pass(DOVECOT);
  assert.equal(pass('NO "Authentication failed."\r\n')?.data, 'NO "Authentication failed."\r\n');
  const tooLong = login({ proxy_buffer: 64 })('"SIEVE" "' + "a".repeat(100));
  assert.equal(tooLong?.kind, "fail");
});

function preambleShow(step: PreambleStep | null): string {
  if (step === null) return "null";
  if (step.kind === "send") return `send ${toBinary(step.data)}`;
  if (step.kind === "done") return `done ${toBinary(step.greeting)}`;
  return step.kind === "fail" ? `fail ${step.log}` : step.kind;
}

Deno.test("sieve backend preamble: STARTTLS, then the capabilities and a NOOP are read", () => {
  assert.equal(sieveBackendPreamble({ starttls: false, proxyBuffer: 4096 }), null);
  const p = sieveBackendPreamble({ starttls: true, proxyBuffer: 4096 })!;
  const rx = (text: string) => preambleShow(p.receive(fromBinary(text)));
  assert.equal(rx(DOVECOT.slice(0, 30)), "null");
  assert.equal(rx(DOVECOT.slice(30)), "send STARTTLS\r\n");
  assert.equal(rx('OK "Begin TLS negotiation now."\r\n'), "starttls");
  assert.equal(preambleShow(p.tlsDone()), "send NOOP\r\n");
  assert.equal(
    rx('"IMPLEMENTATION" "Dovecot"\r\n"SASL" "PLAIN"\r\nOK "TLS negotiation successful."\r\n'),
    "null",
  );
  assert.equal(rx('OK "NOOP Completed"\r\n'), `done ${DOVECOT}`);

  const refused = sieveBackendPreamble({ starttls: true, proxyBuffer: 4096 })!;
  refused.receive(fromBinary(DOVECOT));
  assert.equal(
    preambleShow(refused.receive(fromBinary('NO "no TLS here"\r\n'))),
    'fail backend refused STARTTLS: NO "no TLS here"',
  );
});
