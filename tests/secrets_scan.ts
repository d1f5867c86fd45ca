/**
 * The suite-wide secret scan, run by `deno task test` after the whole suite (it is
 * not a `*_test.ts` file, so the parallel run does not pick it up): every proxy the
 * integration tests started left its output in tests/artifacts/proxy-logs/ (see
 * tests/helpers/proxy_process.ts); none may contain a test password or OAuth token. Fails when too
 * few logs were collected, so a broken collection cannot pass silently.
 *
 * Run alone: `deno test -A tests/secrets_scan.ts` (after the suite).
 */

import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { SPECIAL_USERS } from "./lab/auth_service.ts";
import { DEFAULT_DOVECOT_USERS } from "./lab/dovecot.ts";
import { PROXY_LOG_DIR } from "./helpers/proxy_process.ts";
import { findSecrets } from "./helpers/robustness.ts";
import { OAUTH_TEST_TOKENS } from "./helpers/oauth_tokens.ts";

/** Passwords and OAuth bearer tokens the test suites use (lab users and the suites' own). */
const SECRETS = [
  ...new Set([
    ...DEFAULT_DOVECOT_USERS.map((u) => u.password),
    ...Object.values(SPECIAL_USERS),
    "alicepass",
    "bobpass",
    "b0b %pass word",
    "Zq9-secret-pass",
    ...OAUTH_TEST_TOKENS,
  ]),
];

/** At least this many proxy logs must exist: the suites start far more (both runtimes each). */
const MIN_LOGS = Number(process.env.SECRETS_SCAN_MIN_LOGS ?? 8);

Deno.test("no test password in any proxy log of the suite", () => {
  assert.ok(existsSync(PROXY_LOG_DIR), `no proxy logs were collected in ${PROXY_LOG_DIR}`);
  const files = readdirSync(PROXY_LOG_DIR).filter((f) => f.endsWith(".log"));
  assert.ok(files.length >= MIN_LOGS, `only ${files.length} proxy logs collected (want >= ${MIN_LOGS})`);
  let bytes = 0;
  let logins = 0;
  const hits: string[] = [];
  for (const file of files) {
    const text = readFileSync(join(PROXY_LOG_DIR, file), "latin1");
    bytes += text.length;
    logins += (text.match(/login "[^"]*" accepted/g) ?? []).length;
    for (const hit of findSecrets(text, SECRETS)) hits.push(`${file}: ${hit}`);
  }
  console.log(`scanned ${files.length} proxy logs, ${bytes} bytes, ${logins} accepted logins`);
  assert.ok(logins >= 10, `the collected logs hold only ${logins} accepted logins: collection is broken`);
  assert.deepEqual(hits, []);
});
