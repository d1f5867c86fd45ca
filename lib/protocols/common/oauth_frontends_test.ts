/**
 * OAuth logins through the three front ends: advertising, initial response inline and
 * after the empty challenge, and the Auth-Error-SASL challenge with its dummy response.
 */
import assert from "node:assert/strict";
import { clientText, feed, recordStep } from "../../../tests/helpers/frontend_steps.ts";
import { testServerConfig } from "../../../tests/helpers/server_config.ts";
import type { ServerConfig } from "../../config/types.ts";
import { encodeBase64, encodeOAuthBearer, encodeXOAuth2 } from "../../sasl/mod.ts";
import { toBinary } from "../../util/bytes.ts";
import type { Frontend, FrontendContext } from "../types.ts";
import { ImapFrontend } from "../imap/frontend.ts";
import { Pop3Frontend } from "../pop3/frontend.ts";
import { SmtpFrontend } from "../smtp/frontend.ts";

const ctx: FrontendContext = {
  secure: false,
  clientIp: "192.0.2.7",
  random: () => 0.5,
  now: () => 1_700_000_000_000,
};
const OAUTH = ["plain", "oauthbearer", "xoauth2"];
const TOKEN = "eyJ" + "A".repeat(6 * 1024);
const ERROR_JSON = encodeBase64('{"status":"invalid_token","schemes":"bearer"}');

function imap(extra: Partial<ServerConfig> = {}): ImapFrontend {
  return new ImapFrontend(testServerConfig({ protocol: "imap", imap_auth: OAUTH, ...extra }), ctx);
}
function pop3(extra: Partial<ServerConfig> = {}): Pop3Frontend {
  return new Pop3Frontend(testServerConfig({ protocol: "pop3", pop3_auth: OAUTH, ...extra }), ctx);
}
function smtp(extra: Partial<ServerConfig> = {}): SmtpFrontend {
  return new SmtpFrontend(
    testServerConfig({ protocol: "smtp", smtp_auth: OAUTH, server_name: "mx.test", ...extra }),
    ctx,
  );
}

function credentialsOf(fe: Frontend, ...chunks: string[]) {
  const steps = feed(fe, ...chunks);
  const last = steps.at(-1);
  assert.equal(last?.kind, "auth", JSON.stringify(steps.map((s) => s.kind)));
  return last?.kind === "auth" ? last.credentials : undefined;
}

Deno.test("oauth: advertised on every protocol; nothing changes without the methods", () => {
  const caps = clientText(feed(imap(), "a CAPABILITY\r\n"));
  assert.match(caps, /AUTH=OAUTHBEARER AUTH=XOAUTH2 SASL-IR/);
  assert.doesNotMatch(clientText(feed(imap({ imap_auth: ["plain"] }), "a CAPABILITY\r\n")), /SASL-IR|OAUTH/);
  assert.match(clientText(feed(pop3(), "CAPA\r\n")), /SASL PLAIN LOGIN OAUTHBEARER XOAUTH2\r\n/);
  assert.match(clientText(feed(smtp(), "EHLO c\r\n")), /250 AUTH PLAIN OAUTHBEARER XOAUTH2\r\n/);
});

Deno.test("oauth: a 6 KiB token inline (SASL-IR) and after the empty challenge, default buffers", () => {
  const bearer = encodeBase64(encodeOAuthBearer("u@x", TOKEN));
  const xoauth = encodeBase64(encodeXOAuth2("u@x", TOKEN));
  const want = (method: string) => ({ method, user: "u@x", pass: TOKEN });
  assert.deepEqual(credentialsOf(imap(), `a AUTHENTICATE OAUTHBEARER ${bearer}\r\n`), want("oauthbearer"));
  assert.deepEqual(credentialsOf(imap(), "a AUTHENTICATE XOAUTH2\r\n", `${xoauth}\r\n`), want("xoauth2"));
  // POP3: a token longer than the 255-octet AUTH line goes on the continuation line.
  assert.deepEqual(credentialsOf(pop3(), "AUTH XOAUTH2\r\n", `${xoauth}\r\n`), want("xoauth2"));
  assert.deepEqual(credentialsOf(pop3(), `AUTH OAUTHBEARER ${bearer}\r\n`), want("oauthbearer"));
  assert.deepEqual(credentialsOf(smtp(), "EHLO c\r\n", `AUTH XOAUTH2 ${xoauth}\r\n`), want("xoauth2"));
  assert.deepEqual(
    credentialsOf(smtp(), "EHLO c\r\n", "AUTH OAUTHBEARER\r\n", `${bearer}\r\n`),
    want("oauthbearer"),
  );
});

Deno.test("oauth: disabled mechanisms are refused like unknown ones", () => {
  const bearer = encodeBase64(encodeOAuthBearer("", "t"));
  assert.equal(
    clientText(feed(imap({ imap_auth: ["plain"] }), `a AUTHENTICATE OAUTHBEARER ${bearer}\r\n`)),
    "a BAD invalid command\r\n",
  );
  assert.equal(
    clientText(feed(smtp({ smtp_auth: ["plain"] }), "EHLO c\r\n", "AUTH XOAUTH2\r\n")).endsWith(
      "500 5.5.1 Invalid command\r\n",
    ),
    true,
  );
});

Deno.test("oauth: Auth-Error-SASL challenge, dummy response, failure line; then a success", () => {
  const bearer = encodeBase64(encodeOAuthBearer("", "bad"));
  const fail = { status: "fail" as const, message: "Invalid token", wait: 1, saslError: ERROR_JSON };

  const i = imap();
  credentialsOf(i, `a AUTHENTICATE OAUTHBEARER ${bearer}\r\n`);
  assert.equal(clientText([recordStep(i.authFailed(fail))]), `+ ${ERROR_JSON}\r\n`);
  assert.equal(clientText(feed(i, "AQ==\r\n")), "a NO Invalid token\r\n");
  credentialsOf(i, `b AUTHENTICATE OAUTHBEARER ${bearer}\r\n`);
  assert.equal(clientText([recordStep(i.authFailed(fail))]), `+ ${ERROR_JSON}\r\n`);
  assert.equal(clientText(feed(i, "\r\n")), "b NO Invalid token\r\n");
  assert.equal(credentialsOf(i, `c AUTHENTICATE OAUTHBEARER ${bearer}\r\n`)?.pass, "bad");

  const p = pop3();
  credentialsOf(p, `AUTH OAUTHBEARER ${bearer}\r\n`);
  assert.equal(clientText([recordStep(p.authFailed(fail))]), `+ ${ERROR_JSON}\r\n`);
  assert.equal(clientText(feed(p, "AQ==\r\n")), "-ERR Invalid token\r\n");

  const s = smtp();
  credentialsOf(s, "EHLO c\r\n", `AUTH OAUTHBEARER ${bearer}\r\n`);
  assert.equal(clientText([recordStep(s.authFailed(fail))]), `334 ${ERROR_JSON}\r\n`);
  assert.equal(clientText(feed(s, "AQ==\r\n")), "535 5.7.0 Invalid token\r\n");
});

Deno.test("oauth: anything but the dummy response is a protocol error; without Auth-Wait the session closes", () => {
  const bearer = encodeBase64(encodeOAuthBearer("", "bad"));
  const s = smtp();
  credentialsOf(s, "EHLO c\r\n", `AUTH OAUTHBEARER ${bearer}\r\n`);
  s.authFailed({ status: "fail", message: "No", wait: 1, saslError: ERROR_JSON });
  assert.equal(clientText(feed(s, "Zm9v\r\n")), "501 5.5.4 Invalid argument\r\n");

  const i = imap();
  credentialsOf(i, `a AUTHENTICATE OAUTHBEARER ${bearer}\r\n`);
  i.authFailed({ status: "fail", message: "No", wait: 0, saslError: ERROR_JSON });
  const steps = feed(i, "AQ==\r\n");
  assert.equal(steps.at(-1)?.kind, "close");
  assert.equal(toBinary(new TextEncoder().encode(clientText(steps))), "a NO No\r\n");
});
