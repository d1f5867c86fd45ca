/**
 * The status page's upstreams section and last-hour charts in headless Chromium
 * (JavaScript off), with mailproxy under Deno and Bun in front of a real Dovecot as one
 * server of an `[[upstream]]` and a dead address as the other: the table shows each
 * server's state, health, sessions and users; the SVG charts count the login and the
 * open session. A screenshot of each runtime is kept in tests/artifacts/.
 */

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { freePorts } from "./lab/ports.ts";
import { ADMIN_TOKEN, api, command, imapLogin, type OpsLab, startOpsLab, waitFor } from "./helpers/ops.ts";
import { startProxy } from "./helpers/proxy_process.ts";
import { RUNTIMES } from "./helpers/runtimes.ts";

const ARTIFACTS = new URL("./artifacts/", import.meta.url).pathname;

let labPromise: Promise<OpsLab> | undefined;
const lab = () => (labPromise ??= startOpsLab());

for (const runtime of RUNTIMES) {
  Deno.test({
    name: `status page upstreams and charts in Chromium on ${runtime}`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const { dovecot, auth } = await lab();
      auth.script((): Record<string, string> => ({ "Auth-Status": "OK", "Auth-Upstream": "pool" }));
      const [port, dead] = await freePorts(2);
      const live = `127.0.0.1:${dovecot.imapPort}`;
      const proxy = await startProxy(
        runtime,
        `auth_http = "${auth.url}"

[admin]
listen = "127.0.0.1:{{ADMIN_PORT}}"
token = "${ADMIN_TOKEN}"

[[server]]
listen = "127.0.0.1:${port}"
protocol = "imap"

[[upstream]]
name = "pool"
protocol = "imap"
health_check = { interval = "300ms", timeout = "1s", fails = 1, passes = 1 }
server = [{ address = "${live}" }, { address = "127.0.0.1:${dead}", weight = 2 }]
`,
        [port],
      );
      const profile = mkdtempSync(join(tmpdir(), "mailproxy-chromium-"));
      const context = await chromium.launchPersistentContext(profile, {
        executablePath: "/usr/bin/chromium",
        headless: true,
        javaScriptEnabled: false,
        httpCredentials: { username: "admin", password: ADMIN_TOKEN },
        viewport: { width: 1100, height: 900 },
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--no-first-run",
          "--disable-background-networking",
        ],
      });
      try {
        // The dead server is found unhealthy by the checks, so the login goes to Dovecot.
        assert.ok(
          await waitFor(async () =>
            (await api(proxy, "/upstreams")).body.upstreams[0].servers[1].healthy === false
          ),
        );
        const client = await imapLogin(port);
        assert.match(await command(client, "a2", "NOOP"), /a2 OK/);
        const page = await context.newPage();
        const res = await page.goto(`${proxy.adminUrl}/`);
        assert.equal(res?.status(), 200);
        const rows = page.locator("#upstreams tbody tr");
        assert.equal(await rows.count(), 2);
        const first = await rows.nth(0).locator("td").allTextContents();
        assert.deepEqual(first.slice(1), [live, "up", "healthy", "1", "1", "1"]);
        const second = await rows.nth(1).locator("td").allTextContents();
        assert.deepEqual(second.slice(1), [`127.0.0.1:${dead}`, "up", "unhealthy", "2", "0", "0"]);
        for (const id of ["chart-logins", "chart-sessions"]) {
          const bars = page.locator(`#${id} rect`);
          assert.equal(await bars.count(), 60);
          assert.ok(
            Number(await bars.last().getAttribute("height")) > 0,
            `${id}: the current minute has a bar`,
          );
          assert.equal(await page.locator(`#${id} > text`).textContent(), "max 1");
        }
        assert.equal(await page.locator("script").count(), 0);
        mkdirSync(ARTIFACTS, { recursive: true });
        await page.screenshot({
          path: join(ARTIFACTS, `status_page_upstreams_${runtime}.png`),
          fullPage: true,
        });
        client.close();
      } finally {
        auth.script(undefined);
        await context.close();
        rmSync(profile, { recursive: true, force: true });
        await proxy.stop();
      }
    },
  });
}

Deno.test({
  name: "status page upstreams: stop the lab",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    if (labPromise) await (await labPromise).stop();
  },
});
