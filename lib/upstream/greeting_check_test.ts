import assert from "node:assert/strict";
import { GreetingCheck } from "./greeting_check.ts";

const feed = (protocol: "imap" | "pop3" | "smtp", text: string, chunk = 1) => {
  const g = new GreetingCheck(protocol);
  const bytes = new TextEncoder().encode(text);
  let v = g.verdict();
  for (let i = 0; i < bytes.length && v === "more"; i += chunk) v = g.receive(bytes.subarray(i, i + chunk));
  return v;
};

Deno.test("greeting check: good greetings of each protocol, byte at a time", () => {
  assert.equal(feed("imap", "* OK [CAPABILITY IMAP4rev1] Dovecot ready.\r\n"), "ok");
  assert.equal(feed("imap", "* PREAUTH hi\r\n"), "ok");
  assert.equal(feed("pop3", "+OK Dovecot ready.\r\n"), "ok");
  assert.equal(feed("smtp", "220-mx.example ESMTP\r\n220 ready\r\n"), "ok");
});

Deno.test("greeting check: wrong, incomplete and endless greetings", () => {
  assert.equal(feed("imap", "* BYE too many connections\r\n"), "bad");
  assert.equal(feed("pop3", "-ERR busy\r\n"), "bad");
  assert.equal(feed("smtp", "554 go away\r\n"), "bad");
  assert.equal(feed("smtp", "220-a\r\n421 b\r\n"), "bad");
  assert.equal(feed("imap", "* OK no end"), "more");
  assert.equal(feed("imap", "x".repeat(2000), 100), "bad");
});
