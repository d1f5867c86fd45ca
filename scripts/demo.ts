/**
 * `deno task demo`: brings up the loopback Dovecot and Postfix the tests use (on the
 * ports that config.example.toml names), starts mailproxy in front of it on that embedded
 * default config, and prints commands to paste. Ctrl-C stops everything.
 * `--smoke` runs those commands itself and exits (CI proves the demo works).
 */

import { execFileSync } from "node:child_process";
import { startDovecot } from "../tests/lab/dovecot.ts";
import { startPostfix } from "../tests/lab/postfix.ts";
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

const postfix = await startPostfix({
  port: 10025,
  lmtpPort: dovecot.lmtpPort,
  domain: "mail.example.test",
  mailboxes: ["alice", "bob"],
});

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
  await postfix.stop();
  await dovecot.stop();
  Deno.exit(code);
}

try {
  for (const port of [1143, 1110, 1587, 8080]) await waitForPort(port, 20_000);
} catch (err) {
  console.error(`demo: mailproxy did not start: ${err instanceof Error ? err.message : err}`);
  await shutdown(1);
}

const commands = [
  `curl -v "imap://127.0.0.1:1143/INBOX?ALL" --user alice:alicepass`,
  `curl "imap://127.0.0.1:1143/INBOX;UID=1" --user alice:alicepass`,
  `curl pop3://127.0.0.1:1110/1 --user alice:alicepass`,
  `swaks --server 127.0.0.1:1587 --auth PLAIN --auth-user alice --auth-password alicepass --from alice@mail.example.test --to bob@mail.example.test`,
  `curl "imap://127.0.0.1:1143/INBOX?ALL" --user bob:bobpass    # bob's copy, delivered by Postfix into Dovecot`,
  `python3 -c 'import imaplib; m = imaplib.IMAP4("127.0.0.1", 1143); print(m.login("bob", "bobpass")); print(m.select("INBOX"))'`,
  `curl -s http://127.0.0.1:8080/status`,
  `curl -s http://127.0.0.1:8080/metrics | grep mailproxy_logins_total`,
];

if (smoke) {
  const curl = (...args: string[]) => execFileSync("curl", ["-sS", ...args], { encoding: "utf8" });
  const checks: [string, boolean][] = [];
  checks.push([
    "imap",
    curl("imap://127.0.0.1:1143/INBOX;UID=1", "--user", "alice:alicepass").includes("Welcome"),
  ]);
  checks.push(["pop3", curl("pop3://127.0.0.1:1110/1", "--user", "alice:alicepass").includes("Welcome")]);
  execFileSync("swaks", [
    "--server",
    "127.0.0.1:1587",
    "--auth",
    "PLAIN",
    "--auth-user",
    "alice",
    "--auth-password",
    "alicepass",
    "--from",
    "alice@mail.example.test",
    "--to",
    "bob@mail.example.test",
    "--header",
    "Subject: demo smoke",
  ], { stdio: "ignore" });
  let delivered = false;
  for (let i = 0; i < 50 && !delivered; i++) {
    delivered = curl("imap://127.0.0.1:1143/INBOX?SUBJECT%20%22demo%20smoke%22", "--user", "bob:bobpass")
      .match(/\* SEARCH \d/) !== null;
    if (!delivered) await new Promise((r) => setTimeout(r, 200));
  }
  checks.push(["smtp → postfix → dovecot", delivered]);
  for (const [name, ok] of checks) console.log(`demo smoke: ${name} ${ok ? "ok" : "FAILED"}`);
  const ok = checks.every(([, ok]) => ok);
  console.log(ok ? "demo smoke: ok" : "demo smoke: FAILED");
  await shutdown(ok ? 0 : 1);
}

console.log(`
mailproxy is listening on 127.0.0.1:1143 (IMAP), 127.0.0.1:1110 (POP3) and 127.0.0.1:1587 (SMTP)
in front of Dovecot (10143/10110) and Postfix (10025, delivering into Dovecot), with the users of
config.example.toml (alice/alicepass, bob/bobpass); admin API on 127.0.0.1:8080. Try:

${commands.map((c) => `  ${c}`).join("\n")}

Press Ctrl-C to stop mailproxy and Dovecot.
`);

Deno.addSignalListener("SIGINT", () => shutdown(0));
Deno.addSignalListener("SIGTERM", () => shutdown(0));
await proxy.status;
await shutdown(1);
