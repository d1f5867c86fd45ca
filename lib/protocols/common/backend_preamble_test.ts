import assert from "node:assert/strict";
import type { PreambleStep } from "./backend_preamble.ts";
import { imapBackendPreamble } from "../imap/backend_preamble.ts";
import { pop3BackendPreamble } from "../pop3/backend_preamble.ts";
import { smtpBackendPreamble } from "../smtp/backend_preamble.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const text = (step: PreambleStep | null) =>
  step?.kind === "send"
    ? new TextDecoder().decode(step.data)
    : step?.kind === "done"
    ? new TextDecoder().decode(step.greeting)
    : step?.kind;
const ID = { clientIp: "192.0.2.1", clientPort: 1234, localIp: "127.0.0.1", localPort: 143, sessionId: "s1" };

Deno.test("IMAP STARTTLS then ID; the greeting is replayed", () => {
  const p = imapBackendPreamble({ starttls: true, proxyBuffer: 4096, imapId: ID })!;
  assert.equal(text(p.receive(enc("* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n"))), "mp0 STARTTLS\r\n");
  assert.equal(p.receive(enc("mp0 OK Begin TLS\r\n"))?.kind, "starttls");
  assert.match(
    text(p.tlsDone())!,
    /^mp1 ID \("x-originating-ip" "192\.0\.2\.1" .*"x-session-id" "s1"\)\r\n$/,
  );
  assert.equal(p.receive(enc("* ID NIL\r\n")), null);
  assert.equal(
    text(p.receive(enc("mp1 OK ID completed\r\n"))),
    "* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n",
  );
});

Deno.test("IMAP: a refused STARTTLS fails; split replies wait; untagged lines are skipped", () => {
  const p = imapBackendPreamble({ starttls: true, proxyBuffer: 4096, imapId: null })!;
  assert.equal(p.receive(enc("* OK re")), null);
  assert.equal(text(p.receive(enc("ady\r\n"))), "mp0 STARTTLS\r\n");
  assert.equal(p.receive(enc("* NOTE untagged\r\n")), null);
  const r = p.receive(enc("mp0 BAD no\r\n"));
  assert.equal(r?.kind, "fail");
  assert.match(r?.kind === "fail" ? r.log : "", /backend refused STARTTLS: mp0 BAD no$/);
});

Deno.test("POP3 STLS and SMTP EHLO + STARTTLS, multi-line replies complete at their last line", () => {
  const pop = pop3BackendPreamble({ starttls: true, proxyBuffer: 4096 })!;
  assert.equal(text(pop.receive(enc("+OK Dovecot ready.\r\n"))), "STLS\r\n");
  assert.equal(pop.receive(enc("+OK Begin TLS negotiation now.\r\n"))?.kind, "starttls");
  assert.equal(text(pop.tlsDone()), "+OK Dovecot ready.\r\n");

  const smtp = smtpBackendPreamble({ starttls: true, proxyBuffer: 4096, ehloName: "proxy.test" })!;
  assert.equal(smtp.receive(enc("220-mx ESMTP\r\n")), null);
  assert.equal(text(smtp.receive(enc("220 mx ready\r\n"))), "EHLO proxy.test\r\n");
  assert.equal(smtp.receive(enc("250-mx\r\n250-PIPELINING\r\n")), null);
  assert.equal(text(smtp.receive(enc("250 STARTTLS\r\n"))), "STARTTLS\r\n");
  assert.equal(smtp.receive(enc("220 2.0.0 go\r\n"))?.kind, "starttls");
  assert.equal(text(smtp.tlsDone()), "220-mx ESMTP\r\n220 mx ready\r\n");
  const refused = smtpBackendPreamble({ starttls: true, proxyBuffer: 4096, ehloName: "p" })!;
  refused.receive(enc("220 mx\r\n"));
  refused.receive(enc("250 mx\r\n"));
  assert.equal(refused.receive(enc("454 4.7.0 TLS not available\r\n"))?.kind, "fail");
});

Deno.test("no preamble (null) when there is nothing to say before the login", () => {
  assert.equal(imapBackendPreamble({ starttls: false, proxyBuffer: 4096, imapId: null }), null);
  assert.equal(pop3BackendPreamble({ starttls: false, proxyBuffer: 4096 }), null);
  assert.equal(smtpBackendPreamble({ starttls: false, proxyBuffer: 4096, ehloName: "x" }), null);
  const p = imapBackendPreamble({ starttls: false, proxyBuffer: 4096, imapId: ID })!;
  assert.match(text(p.receive(enc("* OK hi\r\n")))!, /^mp1 ID /);
  assert.equal(text(p.receive(enc("mp1 NO not supported\r\n"))), "* OK hi\r\n");
});

Deno.test("a reply longer than proxy_buffer is refused, not buffered forever", () => {
  const p = imapBackendPreamble({ starttls: true, proxyBuffer: 4096, imapId: null })!;
  const r = p.receive(new Uint8Array(20_000).fill(0x41));
  assert.equal(r?.kind, "fail");
  assert.match(r?.kind === "fail" ? r.log : "", /too long response line/);
});
