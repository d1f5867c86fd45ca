import assert from "node:assert/strict";
import { testServerConfig } from "../../../tests/helpers/server_config.ts";
import type { ServerConfig } from "../../config/types.ts";
import { smtpEhloReply, smtpGreeting } from "./capabilities.ts";

const config = (o: Partial<ServerConfig> = {}) =>
  testServerConfig({ protocol: "smtp", server_name: "mx", ...o });

Deno.test("smtp greeting names the server", () => {
  assert.equal(smtpGreeting(config()), "220 mx ESMTP ready\r\n");
});

Deno.test("smtp EHLO: the spec's examples (§4.3.5)", () => {
  assert.equal(smtpEhloReply(config(), false), "250-mx\r\n250 AUTH PLAIN LOGIN\r\n");
  assert.equal(smtpEhloReply(config({ smtp_auth: ["none"] }), false), "250 mx\r\n");
  assert.equal(
    smtpEhloReply(config({ starttls: "on" }), false),
    "250-mx\r\n250-AUTH PLAIN LOGIN\r\n250 STARTTLS\r\n",
  );
  assert.equal(smtpEhloReply(config({ starttls: "only" }), false), "250-mx\r\n250 STARTTLS\r\n");
});

Deno.test("smtp EHLO: capabilities in order, mechanisms in nginx's fixed order, plain list after TLS", () => {
  const c = config({
    smtp_capabilities: ["SIZE 10485760", "8BITMIME", "PIPELINING"],
    smtp_auth: ["external", "none", "cram-md5", "login", "plain"],
  });
  assert.equal(
    smtpEhloReply(c, false),
    "250-mx\r\n250-SIZE 10485760\r\n250-8BITMIME\r\n250-PIPELINING\r\n250 AUTH PLAIN LOGIN CRAM-MD5 EXTERNAL\r\n",
  );
  assert.equal(smtpEhloReply({ ...c, starttls: "only" }, true), smtpEhloReply(c, false));
  assert.equal(smtpEhloReply(config({ smtp_auth: ["login"] }), false), "250-mx\r\n250 AUTH LOGIN\r\n");
});
