/**
 * Round trip through the converter against the reference: nginx runs the `mail {}` block
 * of a fixture, mailproxy runs `mailproxy convert`'s output for the same file, and both
 * must greet and answer CAPABILITY (POP3 CAPA, SMTP EHLO) byte for byte alike.
 */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { convertNginxConfig } from "../lib/convert/mod.ts";
import { startAuthService } from "./lab/auth_service.ts";
import { startNginxMail } from "./lab/nginx.ts";
import { freePort } from "./lab/ports.ts";
import { startProxy } from "./helpers/proxy_process.ts";
import { runTranscript, type TranscriptStep, visible } from "./helpers/transcript.ts";

const FIXTURES = new URL("./fixtures/nginx/", import.meta.url).pathname;
/** The auth_http URL the fixtures name; replaced by the lab auth service's. */
const FIXTURE_AUTH = "http://127.0.0.1:9000/auth";

/** A fixture's listen ports and the transcript each server must answer alike. */
interface Case {
  fixture: string;
  servers: { port: number; steps: TranscriptStep[] }[];
}

const IMAP: TranscriptStep[] = [{ until: "* OK" }, { send: "a1 CAPABILITY\r\n", until: "a1 " }];

const POP3: TranscriptStep[] = [{ until: "+OK" }, { send: "CAPA\r\n", until: "." }];
const SMTP: TranscriptStep[] = [{ until: "220 " }, { send: "EHLO client.test\r\n", until: "250 " }];

const CASES: Case[] = [
  { fixture: "imap_compare.conf", servers: [{ port: 1143, steps: IMAP }, { port: 1144, steps: IMAP }] },
  {
    fixture: "pop3_smtp_compare.conf",
    servers: [{ port: 1110, steps: POP3 }, { port: 1025, steps: SMTP }, { port: 1026, steps: SMTP }],
  },
];

/** APOP/CRAM-MD5 salts are random per connection: `<RANDOM.TIME@name>`. */
function normalise(text: string): string {
  return visible(text).replace(/<\d+\.\d+@/g, "<SALT@");
}

/** The fixture with its ports and auth URL replaced (nginx and mailproxy each get their own ports). */
function instantiate(text: string, ports: Map<number, number>, authUrl: string): string {
  let out = text.replaceAll(FIXTURE_AUTH, authUrl);
  for (const [from, to] of ports) out = out.replaceAll(`127.0.0.1:${from};`, `127.0.0.1:${to};`);
  return out;
}

/** The inside of the fixture's `mail { … }` block (the lab writes the rest of nginx.conf). */
function mailBody(text: string): string {
  const m = /^mail\s*\{\n([\s\S]*)\n\}\s*$/m.exec(text);
  if (!m) throw new Error("fixture has no top-level mail { } block");
  return m[1];
}

for (const c of CASES) {
  Deno.test({
    name: `converted ${c.fixture} serves what nginx serves with the original`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      const text = readFileSync(join(FIXTURES, c.fixture), "utf8");
      const auth = await startAuthService({ backends: {} });
      const nginxPorts = new Map<number, number>();
      const ourPorts = new Map<number, number>();
      for (const s of c.servers) {
        nginxPorts.set(s.port, await freePort());
        ourPorts.set(s.port, await freePort());
      }
      const nginx = await startNginxMail({
        authHttp: auth.url,
        servers: mailBody(instantiate(text, nginxPorts, auth.url)),
        ports: [...nginxPorts.values()],
      });
      try {
        const converted = convertNginxConfig(instantiate(text, ourPorts, auth.url), {
          file: c.fixture,
          baseDir: FIXTURES,
        });
        assert.ok(converted.ok, converted.errors.join("\n"));
        assert.deepEqual(converted.reports, []);
        const proxy = await startProxy("deno", converted.toml, [...ourPorts.values()]);
        try {
          for (const s of c.servers) {
            await t.step(`server on fixture port ${s.port}`, async () => {
              const theirs = await runTranscript(nginxPorts.get(s.port)!, s.steps);
              const mine = await runTranscript(ourPorts.get(s.port)!, s.steps);
              assert.deepEqual(mine.replies.map(normalise), theirs.replies.map(normalise));
              assert.ok(theirs.replies.at(-1)!.length > 0, "nginx answered");
            });
          }
        } finally {
          await proxy.stop();
        }
      } finally {
        await nginx.stop();
        await auth.stop();
      }
    },
  });
}
