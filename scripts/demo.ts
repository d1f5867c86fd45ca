/**
 * `deno task demo`: brings up the loopback Dovecot the tests use (on the ports that
 * config.example.toml names), starts mailproxy in front of it on that embedded
 * default config, and prints commands to paste. Ctrl-C stops everything.
 * `--smoke` runs those commands itself and exits (CI proves the demo works).
 */

import { execFileSync } from "node:child_process";
import { startDovecot } from "../tests/lab/dovecot.ts";
import { waitForPort } from "../tests/lab/ports.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const smoke = Deno.args.includes("--smoke");

execFileSync("bash", [`${ROOT}scripts/install_lab.sh`], { stdio: "inherit" });

const dovecot = await startDovecot({ ports: { imap: 10143, pop3: 10110, lmtp: 10024 } });
dovecot.addMessage(
  "alice",
  "From: postmaster@mail.example.test\r\nTo: alice@mail.example.test\r\nSubject: Welcome to mailproxy\r\n\r\n" +
    "This message sits in Dovecot; you are reading it through mailproxy.\r\n",
);

const proxy = new Deno.Command(Deno.execPath(), {
  args: ["run", "--allow-all", `${ROOT}main.ts`, "--config", `${ROOT}config.example.toml`],
  stdin: "null",
  stdout: smoke ? "null" : "inherit",
  stderr: smoke ? "null" : "inherit",
}).spawn();

async function shutdown(code: number): Promise<never> {
  try {
    proxy.kill("SIGTERM");
  } catch {
    // Already stopped.
  }
  await proxy.status;
  await dovecot.stop();
  Deno.exit(code);
}

try {
  await waitForPort(1143, 20_000);
  await waitForPort(8080, 20_000);
} catch (err) {
  console.error(`demo: mailproxy did not start: ${err instanceof Error ? err.message : err}`);
  await shutdown(1);
}

const commands = [
  `curl -v "imap://127.0.0.1:1143/INBOX?ALL" --user alice:alicepass`,
  `curl "imap://127.0.0.1:1143/INBOX;UID=1" --user alice:alicepass`,
  `python3 -c 'import imaplib; m = imaplib.IMAP4("127.0.0.1", 1143); print(m.login("bob", "bobpass")); print(m.select("INBOX"))'`,
  `curl -s http://127.0.0.1:8080/status`,
  `curl -s http://127.0.0.1:8080/metrics | grep mailproxy_logins_total`,
];

if (smoke) {
  const out = execFileSync("curl", ["-sS", "imap://127.0.0.1:1143/INBOX;UID=1", "--user", "alice:alicepass"], {
    encoding: "utf8",
  });
  const ok = out.includes("Subject: Welcome to mailproxy");
  console.log(ok ? "demo smoke: ok" : `demo smoke: unexpected output:\n${out}`);
  await shutdown(ok ? 0 : 1);
}

console.log(`
mailproxy is listening on 127.0.0.1:1143 (IMAP) in front of Dovecot on 127.0.0.1:10143,
with the users of config.example.toml (alice/alicepass, bob/bobpass). Try:

${commands.map((c) => `  ${c}`).join("\n")}

Press Ctrl-C to stop mailproxy and Dovecot.
`);

Deno.addSignalListener("SIGINT", () => shutdown(0));
Deno.addSignalListener("SIGTERM", () => shutdown(0));
await proxy.status;
await shutdown(1);
