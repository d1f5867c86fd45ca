/**
 * The status page in a real browser: headless Chromium (Debian's, driven by
 * playwright-core) with JavaScript disabled opens `GET /` of mailproxy running under
 * Deno and Bun, logs in with HTTP Basic (token as password), sees the test's live IMAP
 * session, and after the session ends sees the page refresh itself. A screenshot of
 * each is kept in tests/artifacts/. Last, the `bun build --compile` binary serves the page.
 */

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";
import { freePort, waitForPort } from "./lab/ports.ts";
import { ADMIN_TOKEN, command, imapLogin, type OpsLab, startOpsLab } from "./helpers/ops.ts";
import { startProxy } from "./helpers/proxy_process.ts";
import { bunExecutable, RUNTIMES } from "./helpers/runtimes.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const ARTIFACTS = join(ROOT, "tests", "artifacts");

let labPromise: Promise<OpsLab> | undefined;
const lab = () => (labPromise ??= startOpsLab());

function config(
  authUrl: string,
  port: number,
  adminPort: number | "{{ADMIN_PORT}}" = "{{ADMIN_PORT}}",
): string {
  return `auth_http = "${authUrl}"

[admin]
listen = "127.0.0.1:${adminPort}"
token = "${ADMIN_TOKEN}"

[[server]]
listen = "127.0.0.1:${port}"
protocol = "imap"
`;
}

/** Headless Chromium without JavaScript, a fresh profile, and the admin token as Basic credentials. */
async function browser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), "mailproxy-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    javaScriptEnabled: false,
    httpCredentials: { username: "admin", password: ADMIN_TOKEN },
    viewport: { width: 1100, height: 800 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

for (const runtime of RUNTIMES) {
  Deno.test({
    name: `status page in Chromium on ${runtime}`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      const { dovecot, auth } = await lab();
      const port = await freePort();
      const proxy = await startProxy(runtime, config(auth.url, port), [port]);
      const b = await browser();
      try {
        const client = await imapLogin(port);
        assert.match(await command(client, "a2", "SELECT INBOX"), /a2 OK/);
        const page = await b.context.newPage();

        await t.step("the page shows the live session, listeners, logins and backend", async () => {
          const res = await page.goto(`${proxy.adminUrl}/`);
          assert.equal(res?.status(), 200);
          assert.equal(await page.title(), "mailproxy status");
          const row = page.locator("#sessions tbody tr");
          assert.equal(await row.count(), 1);
          const cells = await row.locator("td").allTextContents();
          assert.equal(cells[1], "imap");
          assert.equal(cells[2], "alice");
          assert.equal(cells[4], `127.0.0.1:${dovecot.imapPort}`);
          assert.equal(cells[5], "relay");
          const listeners = await page.locator("#listeners tbody td").allTextContents();
          assert.ok(listeners.includes(`127.0.0.1:${port}`), listeners.join("|"));
          const ok = await page.locator("#logins tbody tr").first().locator("td").allTextContents();
          assert.deepEqual([ok[0], ok[1]], ["ok", "1"]);
          assert.match(
            await page.locator("#backends").innerText(),
            new RegExp(`127\\.0\\.0\\.1:${dovecot.imapPort}`),
          );
          assert.equal(await page.locator("script").count(), 0, "no JavaScript on the page");
          mkdirSync(ARTIFACTS, { recursive: true });
          await page.screenshot({ path: join(ARTIFACTS, `status_page_${runtime}.png`), fullPage: true });
        });

        await t.step("it refreshes itself: the ended session disappears", async () => {
          assert.match(await command(client, "a3", "LOGOUT"), /a3 OK/);
          client.close();
          await page.waitForSelector("text=No active sessions.", { timeout: 12_000 });
        });
      } finally {
        await b.close();
        const code = await proxy.stop();
        assert.equal(code, 0, proxy.logs());
      }
    },
  });
}

Deno.test({
  name: "status page from the bun build --compile binary",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { auth } = await lab();
    const dir = mkdtempSync(join(tmpdir(), "mailproxy-compiled-"));
    const binary = join(dir, "mailproxy");
    const build = await new Deno.Command(bunExecutable(), {
      args: ["build", "--compile", "main.ts", "--outfile", binary],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(build.code, 0, new TextDecoder().decode(build.stderr));
    const [port, adminPort] = [await freePort(), await freePort()];
    writeFileSync(join(dir, "proxy.toml"), config(auth.url, port, adminPort));
    const child = new Deno.Command(binary, {
      args: ["--config", join(dir, "proxy.toml")],
      cwd: dir,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      await waitForPort(adminPort, 20_000);
      const res = await fetch(`http://127.0.0.1:${adminPort}/`, {
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      assert.equal(res.status, 200);
      const html = await res.text();
      assert.match(html, /^<!DOCTYPE html><html lang="en">/);
      assert.match(html, /<h1>mailproxy [^<]+<\/h1>/);
      assert.match(html, new RegExp(`127\\.0\\.0\\.1:${port}`));
    } finally {
      child.kill("SIGTERM");
      assert.equal((await child.status).code, 0);
      rmSync(dir, { recursive: true, force: true });
    }
  },
});

Deno.test({
  name: "status page lab teardown",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    if (labPromise) await (await labPromise).stop();
  },
});
