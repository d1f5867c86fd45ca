import assert from "node:assert/strict";
import { BackendPreamble, type PreambleStep } from "./backend_preamble.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const text = (step: PreambleStep | null) =>
  step?.kind === "send"
    ? new TextDecoder().decode(step.data)
    : step?.kind === "done"
    ? new TextDecoder().decode(step.greeting)
    : step?.kind;

Deno.test("IMAP STARTTLS then ID; the greeting is replayed", () => {
  const p = new BackendPreamble({
    protocol: "imap",
    starttls: true,
    ehloName: "x",
    imapId: enc("mp1 ID ()\r\n"),
  });
  assert.equal(text(p.receive(enc("* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n"))), "mp0 STARTTLS\r\n");
  assert.equal(p.receive(enc("mp0 OK Begin TLS\r\n"))?.kind, "starttls");
  assert.equal(text(p.tlsDone()), "mp1 ID ()\r\n");
  assert.equal(p.receive(enc("* ID NIL\r\n")), null);
  assert.equal(
    text(p.receive(enc("mp1 OK ID completed\r\n"))),
    "* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n",
  );
});

Deno.test("IMAP: a refused STARTTLS fails; split replies wait", () => {
  const p = new BackendPreamble({ protocol: "imap", starttls: true, ehloName: "x" });
  assert.equal(p.receive(enc("* OK re")), null);
  assert.equal(text(p.receive(enc("ady\r\n"))), "mp0 STARTTLS\r\n");
  const r = p.receive(enc("mp0 BAD no\r\n"));
  assert.equal(r?.kind, "fail");
});

Deno.test("POP3 STLS and SMTP EHLO + STARTTLS", () => {
  const pop = new BackendPreamble({ protocol: "pop3", starttls: true, ehloName: "x" });
  assert.equal(text(pop.receive(enc("+OK Dovecot ready.\r\n"))), "STLS\r\n");
  assert.equal(pop.receive(enc("+OK Begin TLS negotiation now.\r\n"))?.kind, "starttls");
  assert.equal(text(pop.tlsDone()), "+OK Dovecot ready.\r\n");

  const smtp = new BackendPreamble({ protocol: "smtp", starttls: true, ehloName: "proxy.test" });
  assert.equal(text(smtp.receive(enc("220-mx ESMTP\r\n220 mx ready\r\n"))), "EHLO proxy.test\r\n");
  assert.equal(smtp.receive(enc("250-mx\r\n250-PIPELINING\r\n")), null);
  assert.equal(text(smtp.receive(enc("250 STARTTLS\r\n"))), "STARTTLS\r\n");
  assert.equal(smtp.receive(enc("220 2.0.0 go\r\n"))?.kind, "starttls");
  assert.equal(text(smtp.tlsDone()), "220-mx ESMTP\r\n220 mx ready\r\n");
  const refused = new BackendPreamble({ protocol: "smtp", starttls: true, ehloName: "p" });
  refused.receive(enc("220 mx\r\n"));
  refused.receive(enc("250 mx\r\n"));
  assert.equal(refused.receive(enc("454 4.7.0 TLS not available\r\n"))?.kind, "fail");
});

Deno.test("ID only, no STARTTLS; needed() says when the preamble can be skipped", () => {
  const opts = { protocol: "imap" as const, starttls: false, ehloName: "x", imapId: enc("mp1 ID ()\r\n") };
  assert.equal(BackendPreamble.needed(opts), true);
  assert.equal(BackendPreamble.needed({ ...opts, imapId: undefined }), false);
  assert.equal(BackendPreamble.needed({ ...opts, protocol: "pop3" }), false);
  const p = new BackendPreamble(opts);
  assert.equal(text(p.receive(enc("* OK hi\r\n"))), "mp1 ID ()\r\n");
  assert.equal(text(p.receive(enc("mp1 NO not supported\r\n"))), "* OK hi\r\n");
});

Deno.test("an endless reply is refused, not buffered forever", () => {
  const p = new BackendPreamble({ protocol: "imap", starttls: true, ehloName: "x" });
  assert.equal(p.receive(new Uint8Array(20_000).fill(0x41))?.kind, "fail");
});
