import assert from "node:assert/strict";
import { testServerConfig } from "../../../tests/helpers/server_config.ts";
import { pop3AuthMethodsReply, pop3CapaReply, pop3SaslMechanisms } from "./capabilities.ts";

const HEAD = "+OK Capability list follows\r\n";

Deno.test("pop3 capabilities: the default list (spec §4.1.4 example)", () => {
  const config = testServerConfig({ protocol: "pop3" });
  assert.equal(pop3CapaReply(config, true), HEAD + "TOP\r\nUSER\r\nUIDL\r\nSASL PLAIN LOGIN\r\n.\r\n");
  assert.equal(pop3AuthMethodsReply(config), "+OK methods supported:\r\nPLAIN\r\nLOGIN\r\n.\r\n");
});

Deno.test("pop3 capabilities: mechanisms in nginx's order; APOP never listed; bare SASL line", () => {
  assert.deepEqual(pop3SaslMechanisms(["external", "cram-md5", "apop", "plain"]), [
    "PLAIN",
    "LOGIN",
    "CRAM-MD5",
    "EXTERNAL",
  ]);
  const apopOnly = testServerConfig({ pop3_auth: ["apop"], pop3_capabilities: ["TOP"] });
  assert.equal(pop3CapaReply(apopOnly, true), HEAD + "TOP\r\nSASL\r\n.\r\n");
  assert.equal(pop3AuthMethodsReply(apopOnly), "+OK methods supported:\r\n.\r\n");
  const all = testServerConfig({ pop3_auth: ["plain", "apop", "cram-md5", "external"] });
  assert.equal(
    pop3AuthMethodsReply(all),
    "+OK methods supported:\r\nPLAIN\r\nLOGIN\r\nCRAM-MD5\r\nEXTERNAL\r\n.\r\n",
  );
});

Deno.test("pop3 capabilities: STLS variants for starttls on/only before TLS", () => {
  const on = testServerConfig({ starttls: "on" });
  assert.equal(pop3CapaReply(on, true), HEAD + "TOP\r\nUSER\r\nUIDL\r\nSASL PLAIN LOGIN\r\nSTLS\r\n.\r\n");
  assert.equal(pop3CapaReply(on, false), HEAD + "TOP\r\nUSER\r\nUIDL\r\nSASL PLAIN LOGIN\r\n.\r\n");
  const only = testServerConfig({
    starttls: "only",
    pop3_capabilities: ["TOP", "user", "UIDL", "PIPELINING"],
  });
  assert.equal(pop3CapaReply(only, true), HEAD + "TOP\r\nUIDL\r\nPIPELINING\r\nSTLS\r\n.\r\n");
  assert.equal(
    pop3CapaReply(only, false),
    HEAD + "TOP\r\nuser\r\nUIDL\r\nPIPELINING\r\nSASL PLAIN LOGIN\r\n.\r\n",
  );
});
