import assert from "node:assert/strict";
import { testServerConfig } from "../../tests/helpers/server_config.ts";
import { fromBinary, toBinary } from "../util/bytes.ts";
import { protocolRecord } from "./mod.ts";

/** Logs a client in as far as the auth step, then asks for the "no backend" reply. */
function unavailable(
  protocol: "imap" | "pop3" | "smtp" | "sieve",
  commands: string,
  line: "unavailable" | "loginBlocked" = "unavailable",
): string {
  const fe = protocolRecord(protocol).createFrontend(testServerConfig({ protocol, smtp_auth: ["plain"] }), {
    secure: false,
    clientIp: "127.0.0.1",
  });
  fe.greeting();
  fe.receive(fromBinary(commands));
  let auth = false;
  for (let step = fe.step(); step !== null; step = fe.step()) if (step.kind === "auth") auth = true;
  assert.ok(auth, `${protocol}: no auth step`);
  return toBinary(line === "unavailable" ? fe.unavailable() : fe.loginBlocked());
}

Deno.test("unavailable: each protocol's temporary failure when no upstream server can take the login", () => {
  assert.equal(
    unavailable("imap", "a7 LOGIN alice secret\r\n"),
    "a7 NO [UNAVAILABLE] Backend server unavailable, try again later\r\n",
  );
  assert.equal(
    unavailable("pop3", "USER alice\r\nPASS secret\r\n"),
    "-ERR [SYS/TEMP] Backend server unavailable, try again later\r\n",
  );
  assert.equal(
    unavailable("smtp", "EHLO x\r\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n"),
    "451 4.3.0 Backend server unavailable, try again later\r\n",
  );
  assert.equal(
    unavailable("sieve", 'AUTHENTICATE "PLAIN" "AGFsaWNlAHNlY3JldA=="\r\n'),
    'NO (TRYLATER) "Service temporarily unavailable, try again later."\r\n',
  );
});

Deno.test("loginBlocked: each protocol's temporary failure when [login_limits] blocks the login", () => {
  assert.equal(
    unavailable("imap", "a7 LOGIN alice secret\r\n", "loginBlocked"),
    "a7 NO [UNAVAILABLE] Too many failed logins, try again later\r\n",
  );
  assert.equal(
    unavailable("pop3", "USER alice\r\nPASS secret\r\n", "loginBlocked"),
    "-ERR [SYS/TEMP] Too many failed logins, try again later\r\n",
  );
  assert.equal(
    unavailable("smtp", "EHLO x\r\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n", "loginBlocked"),
    "454 4.7.0 Too many failed logins, try again later\r\n",
  );
  assert.equal(
    unavailable("sieve", 'AUTHENTICATE "PLAIN" "AGFsaWNlAHNlY3JldA=="\r\n', "loginBlocked"),
    'NO (TRYLATER) "Too many failed logins, try again later."\r\n',
  );
});
