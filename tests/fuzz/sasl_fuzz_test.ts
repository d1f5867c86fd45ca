/**
 * Property tests of the shared SASL pieces: nginx-style lenient base64 and the
 * mechanism exchanges, on arbitrary tokens and response sequences.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { decodeBase64Lenient, encodeBase64 } from "../../lib/sasl/base64.ts";
import { type SaslOutcome, type SaslPolicy, startSasl } from "../../lib/sasl/mechanisms.ts";
import { bin, check, hasLineBreakOrNul } from "./fuzz_support.ts";

const binaryString = fc.uint8Array({ maxLength: 64 }).map(bin);

/** Tokens a client might send as a SASL response: base64 (valid or not), `*`, unicode, junk. */
const token = fc.oneof(
  binaryString.map((b) => encodeBase64(b)),
  binaryString.map((b) => encodeBase64(b).replace(/=+$/, "")),
  fc.array(fc.constantFrom("\0", "\r", "\n", "alice", "pass", "\xff", " "), { maxLength: 6 })
    .map((p) => encodeBase64(p.join(""))),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.constantFrom("*", "=", "", "A", "AA==", "A===", "====", "AB=CD"),
);

Deno.test("fuzz: base64 decoding never throws, yields bytes, and round-trips", () =>
  check(
    "sasl base64",
    fc.property(fc.oneof(token, fc.string({ unit: "binary" })), binaryString, (text, bytes) => {
      const decoded = decodeBase64Lenient(text);
      if (decoded !== null) assert.ok(/^[\0-\xff]*$/.test(decoded), "decoded text is not a binary string");
      const encoded = encodeBase64(bytes);
      assert.match(encoded, /^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/);
      assert.equal(decodeBase64Lenient(encoded), bytes);
      // Where the input is strict base64, nginx's lenient reading agrees with the standard one.
      if (/^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) {
        assert.equal(decoded, atob(text));
      }
    }),
  ));

const MECHANISMS = [
  "PLAIN",
  "plain",
  "LOGIN",
  "Login",
  "CRAM-MD5",
  "cram-md5",
  "EXTERNAL",
  "XOAUTH2",
  "",
  "Ä",
];

function checkOutcome(outcome: SaslOutcome): void {
  switch (outcome.kind) {
    case "credentials": {
      const c = outcome.credentials;
      assert.ok(!hasLineBreakOrNul(c.user), `unsafe login ${JSON.stringify(c.user)}`);
      assert.ok(!hasLineBreakOrNul(c.pass), `unsafe password ${JSON.stringify(c.pass)}`);
      if (c.method === "cram-md5") assert.equal(c.pass.length, 32);
      if (c.method === "external") assert.equal(c.pass, "");
      break;
    }
    case "challenge":
      assert.match(outcome.challenge, /^[A-Za-z0-9+/]*=*$/);
      break;
    case "error":
      assert.equal(typeof outcome.reason, "string");
  }
}

Deno.test("fuzz: SASL exchanges never throw and never yield credentials with CR, LF or NUL", () =>
  check(
    "sasl mechanisms",
    fc.property(
      fc.constantFrom(...MECHANISMS),
      fc.array(token, { maxLength: 2 }),
      fc.array(token, { maxLength: 4 }),
      fc.boolean(),
      fc.boolean(),
      (mechanism, args, responses, cramMd5, external) => {
        const policy: SaslPolicy = { cramMd5, external, salt: () => "<1.2@localhost>" };
        let outcome = startSasl(mechanism, args, policy);
        checkOutcome(outcome);
        for (const response of responses) {
          if (outcome.kind !== "challenge") break;
          const exchange = outcome.exchange;
          outcome = exchange.respond(response);
          checkOutcome(outcome);
          if (outcome.kind !== "challenge") {
            // A finished exchange refuses further input instead of yielding credentials twice.
            assert.equal(exchange.respond(response).kind, "error");
          }
        }
      },
    ),
  ));
