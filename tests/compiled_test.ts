/**
 * The single executable, as CI ships it: `bun build --compile` (the pinned Bun) into a
 * temp dir, then `--version`, `hash-password`, `convert`, `--check`, and a real IMAP
 * login through it in front of the lab Dovecot (static users and auth_http), the same
 * smoke as `deno task start`. Built once per run (~105 MB, a fraction of a second).
 */

import { run } from "./helpers/run.ts";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startAuthService } from "./lab/auth_service.ts";
import { startDovecot } from "./lab/dovecot.ts";
import { freePort, waitForPort } from "./lab/ports.ts";
import { BUN_VERSION, bunExecutable } from "./helpers/runtimes.ts";

const ROOT = new URL("../", import.meta.url).pathname;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

Deno.test({
  name: "compiled executable (bun build --compile): version, check, convert, IMAP logins",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const dir = mkdtempSync(join(tmpdir(), "mailproxy-compiled-"));
    const exe = join(dir, "mailproxy");
    try {
      await t.step("builds with the pinned Bun, offline", async () => {
        const build = await run(bunExecutable(), ["build", "--compile", "main.ts", "--outfile", exe]);
        assert.equal(build.code, 0, build.stderr + build.stdout);
      });

      await t.step("--version names the Bun runtime inside", async () => {
        const r = await run(exe, ["--version"]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(
          r.stdout,
          new RegExp(`^mailproxy \\d+\\.\\d+\\.\\d+ \\(bun ${BUN_VERSION.replaceAll(".", "\\.")}`),
        );
      });

      const dovecot = await startDovecot();
      const auth = await startAuthService({
        backends: { imap: { host: "127.0.0.1", port: dovecot.imapPort } },
      });
      try {
        const hashed = await run(exe, ["hash-password"], "alicepass\n");
        assert.equal(hashed.code, 0, hashed.stderr);
        const hash = hashed.stdout.trim();
        assert.match(hash, /^\$scrypt\$/);

        const [staticPort, httpPort, adminPort] = [await freePort(), await freePort(), await freePort()];
        const config = join(dir, "mailproxy.toml");
        writeFileSync(
          config,
          `server_name = "compiled.test"
auth_http = "${auth.url}"

[[server]]
listen = "127.0.0.1:${staticPort}"
protocol = "imap"
auth = "static"

[[server]]
listen = "127.0.0.1:${httpPort}"
protocol = "imap"

[static_auth]
backend = "127.0.0.1:${dovecot.imapPort}"
failure_wait = "0s"

[[static_auth.user]]
name = "alice"
password = "${hash}"

[admin]
listen = "127.0.0.1:${adminPort}"
`,
        );

        await t.step("--check passes and summarises", async () => {
          const r = await run(exe, ["--check", "--config", config]);
          assert.equal(r.code, 0, r.stderr);
          assert.match(r.stdout, /test is successful/);
        });

        await t.step("convert works inside the executable", async () => {
          const r = await run(exe, ["convert", join(ROOT, "tests/fixtures/nginx/docs_ssl_example.conf")]);
          // Exit 0, or 2 with the --check errors of what this build cannot serve (convert's promise).
          assert.ok(r.code === 0 || (r.code === 2 && /fails --check on bun/.test(r.stderr)), r.stderr);
          assert.match(r.stdout, /^listen = "993 ssl"$/m);
        });

        const child = new Deno.Command(exe, {
          args: ["--config", config],
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        let logs = "";
        const decoder = new TextDecoder();
        const drained = Promise.all([child.stdout, child.stderr].map(async (s) => {
          for await (const chunk of s) logs += decoder.decode(chunk, { stream: true });
        }));
        try {
          for (const port of [adminPort, staticPort, httpPort]) await waitForPort(port, 20_000);
          for (const [how, port] of [["static users", staticPort], ["auth_http", httpPort]] as const) {
            await t.step(`curl logs in and lists INBOX via ${how}`, async () => {
              const r = await run("curl", [
                "-sS",
                "--max-time",
                "20",
                `imap://127.0.0.1:${port}/INBOX?ALL`,
                "--user",
                "alice:alicepass",
              ]);
              assert.equal(r.code, 0, `${r.stderr}\n--- proxy log ---\n${logs}`);
              assert.match(r.stdout, /^\* SEARCH/m);
            });
          }
          await t.step("a wrong password is refused", async () => {
            const r = await run("curl", [
              "-sS",
              "--max-time",
              "20",
              `imap://127.0.0.1:${staticPort}/`,
              "-u",
              "alice:x",
            ]);
            assert.notEqual(r.code, 0);
          });
          await t.step("the admin API answers", async () => {
            const res = await fetch(`http://127.0.0.1:${adminPort}/healthz`);
            await res.body?.cancel();
            assert.equal(res.status, 200);
          });
        } finally {
          child.kill("SIGTERM");
          const status = await child.status;
          await drained;
          assert.equal(status.code, 0, `exit on SIGTERM\n${logs}`);
        }
      } finally {
        await auth.stop();
        await dovecot.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
});
