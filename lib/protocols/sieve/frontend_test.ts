import assert from "node:assert/strict";
import { clientText, feed, feedBytewise, type StepRecord } from "../../../tests/helpers/frontend_steps.ts";
import { testServerConfig } from "../../../tests/helpers/server_config.ts";
import type { ServerConfig } from "../../config/types.ts";
import { encodeBase64 } from "../../sasl/base64.ts";
import { toBinary } from "../../util/bytes.ts";
import { SieveFrontend } from "./frontend.ts";

function frontend(overrides: Partial<ServerConfig> = {}, secure = false): SieveFrontend {
  return new SieveFrontend(testServerConfig({ protocol: "sieve", ...overrides }), {
    secure,
    random: () => 0.5,
    now: () => 1_700_000_000_000,
  });
}

const send = (data: string): StepRecord => ({ kind: "send", data });
const plain = (user: string, pass: string): StepRecord => ({
  kind: "auth",
  credentials: { method: "plain", user, pass },
});
const SIEVE_DEFAULT =
  '"SIEVE" "fileinto reject envelope encoded-character vacation subaddress comparator-i;ascii-numeric ' +
  "relational regex imap4flags copy include variables body enotify environment mailbox date index ihave " +
  'duplicate mime foreverypart extracttext"\r\n';
const CAPS = '"IMPLEMENTATION" "mailproxy"\r\n"SASL" "PLAIN LOGIN"\r\n' + SIEVE_DEFAULT +
  '"NOTIFY" "mailto"\r\n"VERSION" "1.0"\r\n';

Deno.test("sieve frontend: greeting, CAPABILITY, NOOP with a tag, LOGOUT", () => {
  const fe = frontend();
  assert.equal(toBinary(fe.greeting()), CAPS + 'OK "ManageSieve ready."\r\n');
  assert.deepEqual(feed(fe, "capability\r\n"), [send(CAPS + 'OK "Capability completed."\r\n')]);
  assert.deepEqual(feed(fe, 'NOOP\r\nNOOP "x\\"y"\r\n'), [
    send('OK "NOOP completed."\r\n'),
    send('OK (TAG "x\\"y") "Done."\r\n'),
  ]);
  assert.deepEqual(feed(fe, "LOGOUT\r\nNOOP\r\n"), [
    { kind: "close", data: 'OK "Logout completed."\r\n', reason: "client logged out" },
  ]);
  assert.equal(fe.step(), null);
  assert.equal(toBinary(fe.internalError()), 'BYE (TRYLATER) "Internal server error."\r\n');
});

Deno.test("sieve frontend: STARTTLS drops pipelined bytes and owes the capabilities", () => {
  const fe = frontend({ starttls: "only", sieve_capabilities: ["fileinto"] });
  const before =
    '"IMPLEMENTATION" "mailproxy"\r\n"SASL" ""\r\n"SIEVE" "fileinto"\r\n"STARTTLS"\r\n"VERSION" "1.0"\r\n';
  assert.equal(toBinary(fe.greeting()), before + 'OK "ManageSieve ready."\r\n');
  assert.deepEqual(feed(fe, `AUTHENTICATE "PLAIN" "${encodeBase64("\0a\0b")}"\r\n`), [
    send('NO (ENCRYPT-NEEDED) "Authentication requires TLS: use STARTTLS first."\r\n'),
  ]);
  assert.deepEqual(feed(fe, `STARTTLS\r\nAUTHENTICATE "PLAIN" "${encodeBase64("\0a\0b")}"\r\n`), [
    { kind: "starttls", data: 'OK "Begin TLS negotiation now."\r\n' },
  ]);
  fe.tlsEstablished();
  const after =
    '"IMPLEMENTATION" "mailproxy"\r\n"SASL" "PLAIN LOGIN"\r\n"SIEVE" "fileinto"\r\n"VERSION" "1.0"\r\n';
  assert.deepEqual(feed(fe, ""), [send(after + 'OK "TLS negotiation successful."\r\n')]);
  assert.deepEqual(feed(fe, "STARTTLS\r\n"), [send('NO "STARTTLS is not available."\r\n')]);
  assert.deepEqual(feed(frontend({ starttls: "off" }), "STARTTLS\r\n"), [
    send('NO "STARTTLS is not available."\r\n'),
  ]);
});

Deno.test("sieve frontend: AUTHENTICATE PLAIN with initial response, as a literal, and by continuation", () => {
  const token = encodeBase64("\0alice\0secret");
  assert.deepEqual(feed(frontend(), `AUTHENTICATE "PLAIN" "${token}"\r\n`), [plain("alice", "secret")]);
  assert.deepEqual(feed(frontend(), `authenticate "plain" {${token.length}+}\r\n${token}\r\n`), [
    plain("alice", "secret"),
  ]);
  const fe = frontend();
  assert.deepEqual(feedBytewise(fe, `AUTHENTICATE "PLAIN"\r\n"${token}"\r\nNOOP\r\n`), [
    send('""\r\n'),
    plain("alice", "secret"),
  ]);
  assert.equal(fe.login, "alice");
  assert.equal(toBinary(fe.takePipelined()), "NOOP\r\n");
});

Deno.test("sieve frontend: AUTHENTICATE LOGIN, cancel, bad responses, sieve_auth", () => {
  const fe = frontend();
  assert.deepEqual(feed(fe, 'AUTHENTICATE "LOGIN"\r\n'), [send('"VXNlcm5hbWU6"\r\n')]);
  assert.deepEqual(feed(fe, `"${encodeBase64("bob")}"\r\n`), [send('"UGFzc3dvcmQ6"\r\n')]);
  assert.deepEqual(feed(fe, '"*"\r\n'), [send('NO "Authentication cancelled."\r\n')]);
  assert.deepEqual(feed(fe, 'AUTHENTICATE "PLAIN"\r\n', '"a" "b"\r\n'), [
    send('""\r\n'),
    send('NO "Invalid SASL exchange."\r\n'),
  ]);
  assert.deepEqual(feed(fe, 'AUTHENTICATE "PLAIN" "!!!"\r\n'), [send('NO "Invalid SASL exchange."\r\n')]);
  assert.deepEqual(feed(fe, 'AUTHENTICATE "CRAM-MD5"\r\n'), [
    send('NO "Unsupported authentication mechanism."\r\n'),
  ]);
  assert.deepEqual(feed(fe, "AUTHENTICATE\r\n"), [send('NO "Invalid arguments."\r\n')]);
  const plainOnly = frontend({ sieve_auth: ["plain"] });
  assert.deepEqual(feed(plainOnly, 'AUTHENTICATE "LOGIN"\r\n'), [
    send('NO "Unsupported authentication mechanism."\r\n'),
  ]);
  const external = frontend({ sieve_auth: ["external"] });
  assert.deepEqual(feed(external, `AUTHENTICATE "EXTERNAL" "${encodeBase64("carol")}"\r\n`), [{
    kind: "auth",
    credentials: { method: "external", user: "carol", pass: "" },
  }]);
});

Deno.test("sieve frontend: commands before login, unknown commands and max_errors", () => {
  const fe = frontend({ max_errors: 3 });
  assert.deepEqual(feed(fe, 'LISTSCRIPTS\r\nPUTSCRIPT "a" {5+}\r\nkeep;\r\n'), [
    send('NO "Authenticate first."\r\n'),
    send('NO "Authenticate first."\r\n'),
  ]);
  assert.deepEqual(feed(fe, "FROB\r\n", 'NOOP "x\r\n'), [
    send('NO "Unknown command."\r\n'),
    send('NO "Error in command: line break in a quoted string."\r\n'),
  ]);
  assert.deepEqual(feed(fe, "FROB\r\n"), [{
    kind: "close",
    data: 'NO "Unknown command."\r\nBYE "Too many invalid commands."\r\n',
    reason: "client sent too many invalid commands",
  }]);
});

Deno.test("sieve frontend: too long commands and literals end the session with BYE", () => {
  const fe = frontend({ sieve_client_buffer: 64 });
  assert.deepEqual(feed(fe, 'AUTHENTICATE "PLAIN" {65+}\r\n'), [{
    kind: "close",
    data: 'BYE "Command too long."\r\n',
    reason: "client sent too long command",
  }]);
  assert.equal(
    clientText(feed(frontend({ sieve_client_buffer: 64 }), "N".repeat(100))),
    'BYE "Command too long."\r\n',
  );
});

Deno.test("sieve frontend: refused logins, with and without Auth-Wait", () => {
  const fe = frontend();
  feed(fe, `AUTHENTICATE "PLAIN" "${encodeBase64("\0a\0b")}"\r\n`);
  assert.deepEqual(fe.authFailed({ status: "fail", message: 'Bad "pass"', wait: 1 }), {
    kind: "send",
    data: new TextEncoder().encode('NO "Bad \\"pass\\""\r\n'),
  });
  assert.deepEqual(feed(fe, "NOOP\r\n"), [send('OK "NOOP completed."\r\n')]);
  feed(fe, `AUTHENTICATE "PLAIN" "${encodeBase64("\0a\0b")}"\r\n`);
  const last = fe.authFailed({ status: "fail", message: "Invalid login", wait: 0 });
  assert.equal(last.kind, "close");
});
