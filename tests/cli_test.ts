/** The command line as an administrator meets it, under Deno and Bun: --check, --version, --help, errors. */

import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand, RUNTIMES } from "./helpers/runtimes.ts";
import { startProxy } from "./helpers/proxy_process.ts";
import { freePort, freePorts, waitForPort } from "./lab/ports.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "mailproxy-cli-"));

async function mailproxy(runtime: "deno" | "bun", ...args: string[]) {
  const [cmd, ...pre] = runCommand(runtime);
  const out = await new Deno.Command(cmd, {
    args: [...pre, `${ROOT}main.ts`, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

function config(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const good = config(
  "good.toml",
  `auth_http = "http://127.0.0.1:9000/auth"
[[server]]
listen = "127.0.0.1:1"
protocol = "imap"
`,
);

for (const runtime of RUNTIMES) {
  Deno.test(`cli (${runtime}): --version and --help`, async () => {
    const v = await mailproxy(runtime, "--version");
    assert.equal(v.code, 0);
    assert.match(v.stdout, new RegExp(`^mailproxy \\d+\\.\\d+\\.\\d+ \\(${runtime} `));
    const h = await mailproxy(runtime, "--help");
    assert.equal(h.code, 0);
    assert.match(h.stdout, /--check/);
    assert.match(h.stdout, /hash-password/);
  });

  Deno.test(`cli (${runtime}): --check passes a good config with a summary`, async () => {
    const r = await mailproxy(runtime, "--check", "--config", good);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /syntax is ok/);
    assert.match(r.stdout, /server #1 imap listen 127\.0\.0\.1:1/);
    assert.match(r.stdout, /test is successful/);
    assert.ok(r.stdout.endsWith("successful\n"), "the last line ends with a newline");
  });

  Deno.test(`cli (${runtime}): --check passes on the box where mailproxy runs with the same config`, async () => {
    const [imap, pop3] = await freePorts(2);
    const proxy = await startProxy(
      runtime,
      `auth_http = "http://127.0.0.1:9/auth"
[admin]
listen = "127.0.0.1:{{ADMIN_PORT}}"
token = "check-token"
[[server]]
listen = "127.0.0.1:${imap}"
protocol = "imap"
[[server]]
listen = "127.0.0.1:${pop3}"
protocol = "pop3"
`,
      [imap, pop3],
    );
    try {
      const r = await mailproxy(runtime, "--check", "--config", proxy.configFile);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, "");
      const adminPort = new URL(proxy.adminUrl).port;
      for (const port of [imap, pop3, adminPort]) {
        assert.match(
          r.stdout,
          new RegExp(
            `note: listen "127\\.0\\.0\\.1:${port}": held by the running mailproxy \\(pid ${proxy.pid}\\)`,
          ),
        );
      }
      assert.ok(r.stdout.endsWith("test is successful\n"), r.stdout);
    } finally {
      await proxy.stop();
    }
  });

  Deno.test(`cli (${runtime}): --check asks the running mailproxy over a UNIX-socket admin API too`, async () => {
    const [imap] = await freePorts(1);
    const file = config(
      `unix-admin-${runtime}.toml`,
      `auth_http = "http://127.0.0.1:9/auth"
[admin]
listen = "unix:${join(dir, `admin-${runtime}.sock`)}"
[[server]]
listen = "127.0.0.1:${imap}"
protocol = "imap"
`,
    );
    const [cmd, ...pre] = runCommand(runtime);
    const child = new Deno.Command(cmd, {
      args: [...pre, `${ROOT}main.ts`, "--config", file],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      await waitForPort(imap, 20_000);
      const r = await mailproxy(runtime, "--check", "--config", file);
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stdout,
        new RegExp(`note: listen "127\\.0\\.0\\.1:${imap}": held by the running mailproxy`),
      );
    } finally {
      child.kill("SIGTERM");
      await child.status;
    }
  });

  Deno.test(`cli (${runtime}): --check without an admin API warns about a busy port, names it, and passes`, async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      const file = config(
        `busy-noadmin-${runtime}.toml`,
        `auth_http = "http://127.0.0.1:9000/auth"
[[server]]
listen = "127.0.0.1:${port}"
protocol = "imap"
`,
      );
      const r = await mailproxy(runtime, "--check", "--config", file);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`warning: listen "127\\.0\\.0\\.1:${port}": address already in use`));
    } finally {
      busy.close();
    }
  });

  Deno.test(`cli (${runtime}): --check names the line of a typo and suggests the key`, async () => {
    const file = config(
      `typo-${runtime}.toml`,
      `auth_http = "http://127.0.0.1:9000/auth"
[[server]]
listen = "127.0.0.1:1"
protocol = "imap"
timout = "30s"
`,
    );
    const r = await mailproxy(runtime, "--check", "--config", file);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /typo-\w+\.toml:5: unknown key "timout".*did you mean "timeout"\?/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  });

  Deno.test(`cli (${runtime}): a missing cert file, a bad duration and a port clash: one line each`, async () => {
    const file = config(
      `bad-${runtime}.toml`,
      `auth_http = "http://127.0.0.1:9000/auth"
ssl_certificate = "nope/cert.pem"
ssl_certificate_key = "nope/key.pem"
timeout = "10 parsecs"
[[server]]
listen = "127.0.0.1:1"
protocol = "imap"
[[server]]
listen = "127.0.0.1:1"
protocol = "imap"
`,
    );
    const r = await mailproxy(runtime, "--check", "--config", file);
    assert.equal(r.code, 1);
    const lines = r.stderr.trim().split("\n");
    assert.equal(
      lines.filter((l) => l.includes('ssl_certificate "') && /No such file/.test(l)).length,
      1,
      r.stderr,
    );
    assert.equal(lines.filter((l) => /:4: .*timeout/.test(l)).length, 1, r.stderr);
    assert.equal(
      lines.filter((l) => /duplicate "127\.0\.0\.1:1" address and port pair/.test(l)).length,
      1,
      r.stderr,
    );
    assert.match(lines.at(-1)!, /test failed/);
  });

  Deno.test(`cli (${runtime}): --check fails on a port held by another program (its admin port is free)`, async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      const file = config(
        `busy-${runtime}.toml`,
        `auth_http = "http://127.0.0.1:9000/auth"
[admin]
listen = "127.0.0.1:${await freePort()}"
[[server]]
listen = "127.0.0.1:${port}"
protocol = "imap"
`,
      );
      const r = await mailproxy(runtime, "--check", "--config", file);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        new RegExp(`listen "127\\.0\\.0\\.1:${port}": address already in use by another program`),
      );
    } finally {
      busy.close();
    }
  });

  Deno.test(`cli (${runtime}): --check refuses a public admin API without a token unless told so`, async () => {
    const adminPort = await freePort();
    const text = (extra: string) =>
      `auth_http = "http://127.0.0.1:9000/auth"
[admin]
listen = "0.0.0.0:${adminPort}"
${extra}
[[server]]
listen = "127.0.0.1:1"
protocol = "imap"
`;
    const open = await mailproxy(
      runtime,
      "--check",
      "--config",
      config(`admin-open-${runtime}.toml`, text("")),
    );
    assert.equal(open.code, 1);
    assert.match(
      open.stderr,
      /:3: \[admin\] listens on 0\.0\.0\.0:\d+ without a token: anyone who can reach it/,
    );
    for (const extra of ['token = "s3cret"', "allow_unauthenticated = true"]) {
      const ok = await mailproxy(
        runtime,
        "--check",
        "--config",
        config(`admin-ok-${runtime}.toml`, text(extra)),
      );
      assert.equal(ok.code, 0, ok.stderr);
    }
  });

  Deno.test(`cli (${runtime}): a missing config file and an unknown flag are one clear line`, async () => {
    const r = await mailproxy(runtime, "--config", join(dir, "absent.toml"));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /absent\.toml: No such file or directory/);
    const f = await mailproxy(runtime, "--frobnicate");
    assert.equal(f.code, 2);
    assert.match(f.stderr, /Try "mailproxy --help"/);
    assert.doesNotMatch(f.stderr, /\n\s+at /);
  });
}
