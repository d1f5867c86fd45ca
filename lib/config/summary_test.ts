import assert from "node:assert/strict";
import { createServer } from "node:net";
import { checkPortsFree } from "./ports.ts";
import { summarizeConfig } from "./summary.ts";
import { certDir, HASH, loadOk } from "./testing.ts";

Deno.test("summary reads like nginx -t", () => {
  const dir = certDir();
  const config = loadOk(
    `proxy = true
ssl_certificate = "cert.pem"
ssl_certificate_key = "key.pem"
[[server]]
listen = ["127.0.0.1:1143", "[::1]:993 ssl"]
protocol = "imap"
starttls = "on"
auth_http = "http://127.0.0.1:9000/auth"
[[server]]
listen = "127.0.0.1:1110 proxy_protocol"
protocol = "pop3"
set_real_ip_from = "127.0.0.1"
[admin]
token = "x"
[static_auth]
backend = "127.0.0.1:110"
[[static_auth.user]]
name = "a"
password = "${HASH}"
`,
    dir,
  );
  assert.equal(
    summarizeConfig(config),
    [
      `mailproxy: configuration file ${config.file} syntax is ok`,
      "server #1 imap listen 127.0.0.1:1143, [::1]:993 ssl (starttls on) auth http http://127.0.0.1:9000/auth",
      "server #2 pop3 listen 127.0.0.1:1110 proxy_protocol auth static",
      "static_auth 1 user",
      "admin listen 127.0.0.1:8080 (token set)",
      "workers 1, log info text",
      'warning: proxy.toml:1: "proxy" has no effect (as in nginx)',
      `mailproxy: configuration file ${config.file} test is successful`,
    ].join("\n"),
  );
});

Deno.test("checkPortsFree reports a busy port and passes a free one", async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen({ host: "127.0.0.1", port: 0 }, resolve));
  const busy = (blocker.address() as { port: number }).port;
  const free = await new Promise<number>((resolve) => {
    const probe = createServer();
    probe.listen({ host: "127.0.0.1", port: 0 }, () => {
      const port = (probe.address() as { port: number }).port;
      probe.close(() => resolve(port));
    });
  });
  try {
    const config = loadOk(
      `auth_http = "a:1"\n[[server]]\nlisten = ["127.0.0.1:${busy}", "127.0.0.1:${free}"]\nprotocol = "imap"\n`,
    );
    assert.deepEqual(await checkPortsFree(config), [
      { address: `127.0.0.1:${busy}`, code: "EADDRINUSE", problem: "address already in use", admin: false },
    ]);
  } finally {
    await new Promise((resolve) => blocker.close(resolve));
  }
});

Deno.test("summary names the error_log targets, the mail level's and a server's own", () => {
  const config = loadOk(
    `auth_http = "a:1"\nerror_log = "stderr info"\n[[server]]\nlisten = "127.0.0.1:1143"\nprotocol = "imap"\n` +
      `[[server]]\nlisten = "127.0.0.1:1110"\nprotocol = "pop3"\nerror_log = "syslog:server=127.0.0.1 warn"\n`,
  );
  const text = summarizeConfig(config);
  assert.match(text, /^error_log stderr info$/m);
  assert.match(text, /^server #2 error_log syslog:server=127\.0\.0\.1 warn$/m);
  assert.doesNotMatch(text, /^server #1 error_log/m);
});
