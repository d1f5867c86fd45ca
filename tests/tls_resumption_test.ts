/**
 * TLS session resumption on `listen … ssl` (issue #18 item 6), with a real client:
 * `openssl s_client -sess_out` saves the session of a first IMAPS connection and
 * `-sess_in` offers it on a second; s_client prints `Reused` or `New`. Each connection
 * sends LOGOUT and runs until the proxy closes (`-ign_eof`), so the TLS 1.3 ticket,
 * which comes after the handshake, has arrived before the session is saved.
 * - tickets on (nginx's default): TLS 1.2 and TLS 1.3 sessions resume, on Deno and Bun;
 * - Bun honours `ssl_session_tickets = false` (no resumption) and `ssl_session_timeout`
 *   (an expired session is not resumed); Deno's rustls can do neither: `--check` says so;
 * - `ssl_session_cache = "builtin" | "shared:…"`: no session cache exists on either
 *   runtime (no newSession/resumeSession events, no ID resumption): `--check` says why.
 */

import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { removeTestPki, testPki } from "./lab/certs.ts";
import { freePorts } from "./lab/ports.ts";
import { run } from "./helpers/run.ts";
import { startProxy } from "./helpers/proxy_process.ts";
import { runCommand, RUNTIMES } from "./helpers/runtimes.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "mailproxy-resume-"));
let sessionFiles = 0;

/** One IMAPS connection with s_client: "New"/"Reused", and the IMAP dialogue it saw. */
async function connect(
  port: number,
  ca: string,
  version: "-tls1_2" | "-tls1_3",
  session: { out?: string; in?: string },
): Promise<{ kind: string; text: string }> {
  const args = ["s_client", "-connect", `127.0.0.1:${port}`, version, "-CAfile", ca, "-crlf", "-ign_eof"];
  if (session.out) args.push("-sess_out", session.out);
  if (session.in) args.push("-sess_in", session.in);
  const r = await run("openssl", args, "a1 LOGOUT\n", 20_000);
  const kind = r.stdout.match(/^(New|Reused), /m)?.[1] ?? `none (exit ${r.code}: ${r.stderr.slice(-300)})`;
  return { kind, text: r.stdout };
}

/** A first connection saving its session, then a second one offering it: the second's kind. */
async function resumed(port: number, ca: string, version: "-tls1_2" | "-tls1_3", pause = 0): Promise<string> {
  const file = join(dir, `session-${sessionFiles++}.pem`);
  const first = await connect(port, ca, version, { out: file });
  assert.equal(first.kind, "New");
  assert.match(first.text, /\* OK IMAP4 ready\r?\n[^]*\* BYE/, "the first session worked");
  // TLS 1.3 without tickets: the server gave nothing to resume, so s_client saved nothing.
  if (!existsSync(file)) return "nothing to resume";
  if (pause > 0) await new Promise((r) => setTimeout(r, pause));
  const second = await connect(port, ca, version, { in: file });
  assert.match(second.text, /\* OK IMAP4 ready\r?\n[^]*\* BYE/, "the second session worked");
  return second.kind;
}

async function check(runtime: "deno" | "bun", toml: string): Promise<{ code: number; stderr: string }> {
  const file = join(dir, `check-${sessionFiles++}.toml`);
  writeFileSync(file, toml);
  const [cmd, ...pre] = runCommand(runtime);
  const out = await new Deno.Command(cmd, {
    args: [...pre, `${ROOT}main.ts`, "--check", "--config", file],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stderr: new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr),
  };
}

for (const runtime of RUNTIMES) {
  Deno.test({
    name: `TLS session resumption on ${runtime}`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      const pki = await testPki();
      const [tickets, noTickets, shortTimeout] = await freePorts(3);
      const tls = `ssl_certificate = "${pki.serverRsa.cert}"\nssl_certificate_key = "${pki.serverRsa.key}"\n`;
      const server = (port: number, extra = "") =>
        `[[server]]\nlisten = "127.0.0.1:${port} ssl"\nprotocol = "imap"\n${extra}`;
      const bun = runtime === "bun";
      const proxy = await startProxy(
        runtime,
        `auth_http = "http://127.0.0.1:9/auth"\n${tls}${server(tickets)}` +
          (bun
            ? server(noTickets, "ssl_session_tickets = false\n") +
              server(shortTimeout, 'ssl_session_timeout = "1s"\n')
            : ""),
        bun ? [tickets, noTickets, shortTimeout] : [tickets],
      );
      try {
        for (const version of ["-tls1_2", "-tls1_3"] as const) {
          await t.step(`tickets on (the default): a ${version} session is resumed`, async () => {
            assert.equal(await resumed(tickets, pki.ca, version), "Reused");
          });
        }
        if (bun) {
          for (const version of ["-tls1_2", "-tls1_3"] as const) {
            await t.step(`ssl_session_tickets = false: a ${version} session is not resumed`, async () => {
              // TLS 1.2 still hands out a session ID, which nothing can resume (no session cache).
              assert.equal(
                await resumed(noTickets, pki.ca, version),
                version === "-tls1_2" ? "New" : "nothing to resume",
              );
            });
            await t.step(
              `ssl_session_timeout = "1s": a ${version} session 2.5 s old is not resumed`,
              async () => {
                assert.equal(await resumed(shortTimeout, pki.ca, version, 2500), "New");
              },
            );
          }
        }
      } finally {
        await proxy.stop();
      }

      await t.step("--check: what the runtime cannot do is refused with the reason", async () => {
        const cache = await check(
          runtime,
          `auth_http = "http://127.0.0.1:9/auth"\n${tls}ssl_session_cache = "shared:SSL:10m"\n${server(1)}`,
        );
        assert.equal(cache.code, 1, cache.stderr);
        assert.match(cache.stderr, /ssl_session_cache = "shared:SSL:10m": .*no session cache/);
        const tuned = await check(
          runtime,
          `auth_http = "http://127.0.0.1:9/auth"\n${tls}ssl_session_tickets = false\n` +
            `ssl_session_timeout = "1h"\n${server(1)}`,
        );
        if (bun) assert.doesNotMatch(tuned.stderr, /ssl_session_(tickets|timeout)/, tuned.stderr);
        else {
          assert.equal(tuned.code, 1);
          assert.match(tuned.stderr, /ssl_session_tickets = false: Deno's TLS \(rustls\) cannot honour it/);
          assert.match(tuned.stderr, /ssl_session_timeout = "3600s": Deno's TLS \(rustls\) cannot honour it/);
        }
      });
    },
  });
}

Deno.test({
  name: "TLS resumption teardown",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    rmSync(dir, { recursive: true, force: true });
    await removeTestPki();
  },
});
