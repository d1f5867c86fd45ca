import assert from "node:assert/strict";
import { testServerConfig } from "../../../tests/helpers/server_config.ts";
import { imapAuthTokens, imapCapabilityLine } from "./capabilities.ts";

Deno.test("imap capabilities: defaults", () => {
  const config = testServerConfig();
  assert.equal(imapCapabilityLine(config, false), "* CAPABILITY IMAP4 IMAP4rev1 UIDPLUS AUTH=PLAIN\r\n");
  assert.equal(
    imapCapabilityLine({ ...config, starttls: "on" }, false),
    "* CAPABILITY IMAP4 IMAP4rev1 UIDPLUS AUTH=PLAIN STARTTLS\r\n",
  );
  assert.equal(
    imapCapabilityLine({ ...config, starttls: "only" }, false),
    "* CAPABILITY IMAP4 IMAP4rev1 UIDPLUS STARTTLS LOGINDISABLED\r\n",
  );
});

Deno.test("imap capabilities: after TLS the plain list is used", () => {
  const config = testServerConfig();
  for (const starttls of ["off", "on", "only"] as const) {
    assert.equal(
      imapCapabilityLine({ ...config, starttls }, true),
      "* CAPABILITY IMAP4 IMAP4rev1 UIDPLUS AUTH=PLAIN\r\n",
    );
  }
});

Deno.test("imap capabilities: AUTH= tokens in fixed order, login enables AUTH=LOGIN", () => {
  assert.deepEqual(imapAuthTokens(["external", "CRAM-MD5", "login", "plain"]), [
    "AUTH=PLAIN",
    "AUTH=LOGIN",
    "AUTH=CRAM-MD5",
    "AUTH=EXTERNAL",
  ]);
  assert.deepEqual(imapAuthTokens(["cram-md5"]), ["AUTH=CRAM-MD5"]);
  const config = testServerConfig({
    imap_auth: ["login", "cram-md5"],
    imap_capabilities: ["IMAP4rev1", "IDLE"],
  });
  assert.equal(imapCapabilityLine(config, false), "* CAPABILITY IMAP4rev1 IDLE AUTH=LOGIN AUTH=CRAM-MD5\r\n");
  assert.equal(
    imapCapabilityLine({ ...config, starttls: "on" }, false),
    "* CAPABILITY IMAP4rev1 IDLE AUTH=LOGIN AUTH=CRAM-MD5 STARTTLS\r\n",
  );
  assert.equal(
    imapCapabilityLine({ ...config, imap_capabilities: [] }, false),
    "* CAPABILITY AUTH=LOGIN AUTH=CRAM-MD5\r\n",
  );
});
