import assert from "node:assert/strict";
import { encodeBase64 } from "./base64.ts";
import {
  PASSWORD_CHALLENGE,
  type SaslOutcome,
  type SaslPolicy,
  startSasl,
  USERNAME_CHALLENGE,
} from "./mechanisms.ts";
import { isUnsafeCredential } from "./safe_credentials.ts";

function policy(overrides: Partial<SaslPolicy> = {}): SaslPolicy & { saltCalls: number } {
  const p = {
    cramMd5: true,
    external: true,
    saltCalls: 0,
    salt() {
      p.saltCalls++;
      return "<1.2@host>";
    },
    ...overrides,
  };
  return p;
}

function challenged(outcome: SaslOutcome) {
  assert.equal(outcome.kind, "challenge");
  if (outcome.kind !== "challenge") throw new Error("unreachable");
  return outcome;
}

Deno.test("sasl PLAIN: initial response", () => {
  const out = startSasl("PLAIN", [encodeBase64("authz\0user\0secret")], policy());
  assert.deepEqual(out, {
    kind: "credentials",
    credentials: { method: "plain", user: "user", pass: "secret" },
  });
});

Deno.test("sasl PLAIN: empty challenge, then the response; mechanism is case-insensitive", () => {
  const c = challenged(startSasl("pLaIn", [], policy()));
  assert.equal(c.challenge, "");
  assert.equal(c.exchange.stage, "plain");
  assert.deepEqual(c.exchange.respond(encodeBase64("\0u\0")), {
    kind: "credentials",
    credentials: { method: "plain", user: "u", pass: "" },
  });
});

Deno.test("sasl PLAIN: fewer than two NULs, bad base64, '*' cancel and extra arguments are errors", () => {
  assert.equal(startSasl("PLAIN", [encodeBase64("user")], policy()).kind, "error");
  assert.equal(startSasl("PLAIN", [encodeBase64("\0user")], policy()).kind, "error");
  assert.equal(startSasl("PLAIN", ["!!!"], policy()).kind, "error");
  assert.equal(startSasl("PLAIN", ["a", "b"], policy()).kind, "error");
  assert.equal(challenged(startSasl("PLAIN", [], policy())).exchange.respond("*").kind, "error");
});

Deno.test("sasl LOGIN: username and password challenges", () => {
  const c = challenged(startSasl("LOGIN", [], policy()));
  assert.equal(c.challenge, USERNAME_CHALLENGE);
  const c2 = challenged(c.exchange.respond(encodeBase64("joe")));
  assert.equal(c2.challenge, PASSWORD_CHALLENGE);
  assert.equal(c2.exchange.login, "joe");
  assert.equal(c2.exchange.stage, "login-password");
  assert.deepEqual(c2.exchange.respond(encodeBase64("pw")), {
    kind: "credentials",
    credentials: { method: "plain", user: "joe", pass: "pw" },
  });
  assert.equal(c2.exchange.respond(encodeBase64("pw")).kind, "error", "a finished exchange takes no more");
});

Deno.test("sasl LOGIN: initial username goes straight to the password; empty values allowed", () => {
  const c = challenged(startSasl("login", [encodeBase64("joe")], policy()));
  assert.equal(c.challenge, PASSWORD_CHALLENGE);
  assert.deepEqual(c.exchange.respond(""), {
    kind: "credentials",
    credentials: { method: "plain", user: "joe", pass: "" },
  });
  assert.equal(startSasl("LOGIN", ["a", "b"], policy()).kind, "error");
  assert.equal(startSasl("LOGIN", ["***"], policy()).kind, "error");
});

Deno.test("sasl CRAM-MD5: must be enabled, takes no argument, challenge is base64(salt)", () => {
  assert.equal(startSasl("CRAM-MD5", [], policy({ cramMd5: false })).kind, "error");
  const p = policy();
  assert.equal(startSasl("CRAM-MD5", ["x"], p).kind, "error");
  assert.equal(p.saltCalls, 0, "no salt for a rejected attempt");
  const c = challenged(startSasl("cram-md5", [], p));
  assert.equal(c.challenge, encodeBase64("<1.2@host>"));
  const digest = "0123456789abcdef0123456789abcdef";
  assert.deepEqual(c.exchange.respond(encodeBase64(`joe ${digest}`)), {
    kind: "credentials",
    credentials: { method: "cram-md5", user: "joe", pass: digest, salt: "<1.2@host>" },
  });
});

Deno.test("sasl CRAM-MD5: digest must be exactly 32 bytes after the first space", () => {
  const start = () => challenged(startSasl("CRAM-MD5", [], policy())).exchange;
  assert.equal(start().respond(encodeBase64("joe " + "a".repeat(31))).kind, "error");
  assert.equal(start().respond(encodeBase64("joe " + "a".repeat(33))).kind, "error");
  assert.equal(start().respond(encodeBase64("joe")).kind, "error");
  assert.equal(start().respond(encodeBase64("a b " + "c".repeat(30))).kind, "credentials");
});

Deno.test("sasl EXTERNAL: must be enabled (with or without initial response)", () => {
  assert.equal(startSasl("EXTERNAL", [], policy({ external: false })).kind, "error");
  assert.equal(startSasl("EXTERNAL", [encodeBase64("joe")], policy({ external: false })).kind, "error");
  assert.deepEqual(startSasl("EXTERNAL", [encodeBase64("joe")], policy()), {
    kind: "credentials",
    credentials: { method: "external", user: "joe", pass: "" },
  });
  const c = challenged(startSasl("external", [], policy()));
  assert.equal(c.challenge, USERNAME_CHALLENGE);
  assert.deepEqual(c.exchange.respond(encodeBase64("joe")), {
    kind: "credentials",
    credentials: { method: "external", user: "joe", pass: "" },
  });
});

Deno.test("sasl: unknown mechanisms are errors", () => {
  for (
    const m of [
      "XOAUTH2",
      "OAUTHBEARER",
      "DIGEST-MD5",
      "GSSAPI",
      "NTLM",
      "SCRAM-SHA-1",
      "",
      "PLAINX",
      "ṖLAIN",
    ]
  ) {
    assert.equal(startSasl(m, [], policy()).kind, "error", m);
  }
});

Deno.test("sasl: CR, LF or NUL in decoded credentials are refused", () => {
  for (const bad of ["\r", "\n", "\0", "a\r\nb"]) {
    assert.ok(isUnsafeCredential(bad));
    assert.equal(startSasl("PLAIN", [encodeBase64(`\0user${bad}\0pw`)], policy()).kind, "error");
    assert.equal(startSasl("PLAIN", [encodeBase64(`\0user\0pw${bad}`)], policy()).kind, "error");
    assert.equal(startSasl("LOGIN", [encodeBase64(`user${bad}`)], policy()).kind, "error");
    const c = challenged(startSasl("LOGIN", [encodeBase64("user")], policy()));
    assert.equal(c.exchange.respond(encodeBase64(`pw${bad}`)).kind, "error");
    assert.equal(startSasl("EXTERNAL", [encodeBase64(`user${bad}`)], policy()).kind, "error");
    const cram = challenged(startSasl("CRAM-MD5", [], policy()));
    assert.equal(cram.exchange.respond(encodeBase64(`us${bad}er ${"a".repeat(32)}`)).kind, "error");
  }
  assert.ok(!isUnsafeCredential("normal pass with spaces and \xff bytes"));
});
