/**
 * `mailproxy convert` on the nginx configs in tests/fixtures/nginx/ (the nginx docs'
 * samples, every directive of the spec, old-style `ssl on`, and a large three-protocol
 * config with TLS, STARTTLS and includes): exit status, what is reported, and that the
 * output loads with the real config loader; the IMAP-only one also passes `--check`.
 */

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "smol-toml";
import { main } from "../lib/cli/main.ts";
import { loadConfigText } from "../lib/config/load.ts";
import { keyForDirective } from "../lib/convert/key_index.ts";
import { freePort } from "./lab/ports.ts";
import { runCommand, RUNTIMES } from "./helpers/runtimes.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const FIXTURES = join(ROOT, "tests/fixtures/nginx");

/** Runs the CLI in-process and captures its output. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(args, { out: (t) => void (stdout += t), err: (t) => void (stderr += t) });
  return { code, stdout, stderr };
}

/** Directive names reported on stderr ("not converted: FILE:LINE: NAME …"), in order. */
function reportedNames(stderr: string): string[] {
  return [...stderr.matchAll(/^not converted: \S+:\d+: (\S+)/gm)].map((m) => m[1]);
}

const DRAIN_KEY = keyForDirective("worker_shutdown_timeout");

/** Each fixture with the directives `convert` must report (nothing else). */
const CASES: Record<string, string[]> = {
  "docs_core_example.conf": ["error_log", "worker_connections"],
  "docs_ssl_example.conf": [],
  "docs_auth_http_example.conf": [],
  "legacy_ssl_on.conf": [],
  "spec_all_directives.conf": ["error_log", "ssl_dhparam", "ssl_session_ticket_key", "ssl_conf_command"],
  "imap_compare.conf": [],
  "pop3_smtp_compare.conf": [],
  "large_realistic.conf": [
    "user",
    "pid",
    "worker_rlimit_nofile",
    ...(DRAIN_KEY ? [] : ["worker_shutdown_timeout"]),
    "error_log",
    "worker_connections",
    "multi_accept",
    "http",
    "resolver",
    "ssl_dhparam",
    "ssl_session_ticket_key",
    "error_log",
    "ssl_conf_command",
  ],
};

for (const [fixture, reported] of Object.entries(CASES)) {
  Deno.test(`convert ${fixture}: ${reported.length} reported, the result loads`, async () => {
    const r = await cli("convert", join(FIXTURES, fixture));
    assert.deepEqual(reportedNames(r.stderr), reported, r.stderr);
    assert.equal(r.code, reported.length > 0 ? 2 : 0, r.stderr);
    assert.doesNotMatch(r.stderr, /does not load/);
    // The same list heads the output, as TOML comments.
    const header = r.stdout.match(/^# NOT CONVERTED \((\d+)\)/m);
    assert.equal(header ? Number(header[1]) : 0, reported.length);
    const loaded = loadConfigText(r.stdout, "converted.toml", {
      baseDir: FIXTURES,
      ignoreBuildSupport: true,
    });
    assert.ok(loaded.ok, loaded.ok ? "" : loaded.errors.join("\n"));
  });
}

Deno.test("convert large_realistic.conf: three protocols, TLS, STARTTLS and includes are all there", async () => {
  const r = await cli("convert", join(FIXTURES, "large_realistic.conf"));
  const loaded = loadConfigText(r.stdout, "converted.toml", { baseDir: FIXTURES, ignoreBuildSupport: true });
  if (!loaded.ok) return assert.fail(loaded.errors.join("\n"));
  const c = loaded.config;
  assert.equal(c.worker_processes, "auto");
  assert.equal(c.log.level, "info", "error_log notice → info");
  assert.deepEqual(c.servers.map((s) => s.protocol), ["imap", "pop3", "smtp", "smtp"]);
  assert.deepEqual(c.servers.map((s) => s.starttls), ["on", "only", "only", "on"]);
  assert.deepEqual(c.servers.map((s) => s.listen.filter((l) => l.ssl).map((l) => l.port)), [
    [993, 993],
    [995],
    [
      465,
    ],
    [],
  ]);
  const [imap, pop3, submission, mx] = c.servers;
  assert.equal(imap.listen[1].ipv6only, true);
  assert.deepEqual(imap.imap_capabilities.slice(-2), ["IDLE", "NAMESPACE"], "repeated list accumulates");
  assert.deepEqual(pop3.pop3_capabilities.at(-1), "EXPIRE NEVER");
  assert.equal(pop3.listen[0].backlog, 1024);
  assert.equal(submission.proxy_smtp_auth, true);
  assert.equal(mx.listen[0].proxy_protocol, true);
  assert.equal(mx.ssl_verify_client, "optional_no_ca");
  for (const s of c.servers) {
    assert.equal(s.auth_http?.raw, "unix:/run/mail-auth.sock:/auth");
    assert.deepEqual(s.auth_http_header, [["X-Auth-Key", "k3y with spaces"], ["X-Cluster", "mx1"]]);
    assert.equal(s.ssl_certificate.length, 2);
    assert.equal(s.ssl_session_tickets, false);
    assert.deepEqual(s.resolver, ["127.0.0.53", "[::1]:53"]);
  }
  if (DRAIN_KEY) assert.equal((parse(r.stdout) as Record<string, unknown>)[DRAIN_KEY.name], "30s");
  // Comments travel with their directives, also out of included files.
  assert.match(
    r.stdout,
    /^auth_http = "unix:\/run\/mail-auth.sock:\/auth" {2}# the auth service listens on a UNIX socket$/m,
  );
  assert.match(r.stdout, /^# POP3: STLS required on 110, implicit TLS on 995\n\[\[server\]\]$/m);
  assert.match(r.stdout, /^# include conf\.d\/\*\.conf$/m);
  const count = CASES["large_realistic.conf"].length;
  assert.match(r.stderr, new RegExp(`^mailproxy convert: ${count} directive\\(s\\) not converted`, "m"));
});

Deno.test("convert imap_compare.conf: the result passes plain --check (this build serves it)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mailproxy-convert-"));
  try {
    const ports = [await freePort(), await freePort()];
    const text = readFileSync(join(FIXTURES, "imap_compare.conf"), "utf8")
      .replace("127.0.0.1:1143", `127.0.0.1:${ports[0]}`).replace("127.0.0.1:1144", `127.0.0.1:${ports[1]}`);
    writeFileSync(join(dir, "nginx.conf"), text);
    const converted = await cli("convert", join(dir, "nginx.conf"));
    assert.equal(converted.code, 0, converted.stderr);
    assert.equal(converted.stderr, "");
    writeFileSync(join(dir, "mailproxy.toml"), converted.stdout);
    const check = await cli("--check", "--config", join(dir, "mailproxy.toml"));
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /test is successful/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Deno.test("convert: unreadable or broken input exits 1 with nothing on stdout", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mailproxy-convert-"));
  try {
    const missing = await cli("convert", join(dir, "nope.conf"));
    assert.deepEqual([missing.code, missing.stdout], [1, ""]);
    assert.match(missing.stderr, /nope\.conf: No such file or directory/);
    writeFileSync(join(dir, "broken.conf"), "mail {\n  server { listen 143 }\n");
    const broken = await cli("convert", join(dir, "broken.conf"));
    assert.deepEqual([broken.code, broken.stdout], [1, ""]);
    assert.match(broken.stderr, /broken\.conf:2: unexpected "}"/);
    assert.equal((await cli("convert")).code, 1);
    assert.match((await cli("convert", "--help")).stdout, /Usage: mailproxy convert NGINX_CONF/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Deno.test("convert: a converted config that still fails to load is said so and exits 2", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mailproxy-convert-"));
  try {
    // Valid nginx, but the certificate file does not exist here.
    writeFileSync(
      join(dir, "nginx.conf"),
      "mail { auth_http 127.0.0.1:9/a; ssl_certificate x.pem; server { listen 1; } }",
    );
    const r = await cli("convert", join(dir, "nginx.conf"));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /the converted config does not load yet/);
    assert.match(r.stderr, /x\.pem": No such file or directory/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const runtime of RUNTIMES) {
  Deno.test(`convert as a process (${runtime}): TOML on stdout, reports on stderr, exit 2`, async () => {
    const [cmd, ...pre] = runCommand(runtime);
    const out = await new Deno.Command(cmd, {
      args: [...pre, join(ROOT, "main.ts"), "convert", join(FIXTURES, "docs_core_example.conf")],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 2, stderr);
    assert.deepEqual(reportedNames(stderr), ["error_log", "worker_connections"]);
    const doc = parse(stdout) as Record<string, unknown>;
    assert.equal((doc.server as unknown[]).length, 4);
    assert.equal(doc.xclient, false);
  });
}
