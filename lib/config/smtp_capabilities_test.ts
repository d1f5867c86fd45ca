import assert from "node:assert/strict";
import { refusedSmtpCapabilities } from "./smtp_capabilities.ts";
import { loadErrors, loadOk } from "./testing.ts";

const SMTP = (caps: string, where = "server") => {
  const line = `smtp_capabilities = ${caps}\n`;
  return `auth_http = "http://127.0.0.1:9000/auth"\n${where === "top" ? line : ""}[[server]]\n` +
    `listen = "127.0.0.1:1025"\nprotocol = "smtp"\n${where === "server" ? line : ""}`;
};

Deno.test("CHUNKING and BDAT in smtp_capabilities are refused with the reason", () => {
  for (const caps of ['["SIZE 1000", "CHUNKING"]', '["chunking"]', '["BDAT"]']) {
    const errors = loadErrors(SMTP(caps));
    assert.equal(errors.length, 1, errors.join("\n"));
    assert.match(errors[0], /^proxy\.toml:5: smtp_capabilities must not list "(CHUNKING|chunking|BDAT)"/);
    assert.match(errors[0], /mail is lost/);
  }
});

Deno.test("a mail-level CHUNKING is reported at its own line", () => {
  const errors = loadErrors(SMTP('["CHUNKING"]', "top"));
  assert.match(errors[0], /^proxy\.toml:2: smtp_capabilities must not list "CHUNKING"/);
});

Deno.test("other extensions pass, and non-SMTP servers ignore smtp_capabilities", () => {
  loadOk(SMTP('["SIZE 10485760", "8BITMIME", "PIPELINING", "CHUNKINGX"]'));
  loadOk(
    `auth_http = "http://127.0.0.1:9000/auth"\nsmtp_capabilities = ["CHUNKING"]\n[[server]]\n` +
      `listen = "127.0.0.1:1143"\nprotocol = "imap"\n`,
  );
  assert.deepEqual(refusedSmtpCapabilities(["SIZE", "DSN"]), []);
});
