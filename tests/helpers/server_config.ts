/**
 * A resolved {@link ServerConfig} with the schema's defaults (nginx's, spec §6.6), for unit
 * tests of protocol machines and the session driver. Durations are ms, sizes bytes.
 *
 * The defaults are not written out here: they come from loading a minimal config through
 * the real loader, so the schema rows stay the one place a default lives.
 * @module
 */

import { loadConfigText } from "../../lib/config/load.ts";
import type { ServerConfig } from "../../lib/config/types.ts";

/** What the tests fix besides the defaults: an IMAP server on 127.0.0.1:8143 asking auth_http. */
const MINIMAL = `server_name = "localhost"
auth_http = "http://127.0.0.1:8080/mail/auth"

[[server]]
listen = "127.0.0.1:8143"
protocol = "imap"
`;

let base: ServerConfig | null = null;

/** The loaded minimal server, once per process (fuzz tests ask for it thousands of times). */
function loadBase(): ServerConfig {
  if (base) return base;
  const loaded = loadConfigText(MINIMAL, "test.toml", { baseDir: "/nonexistent", ignoreBuildSupport: true });
  if (!loaded.ok) throw new Error(`the test server config does not load:\n${loaded.errors.join("\n")}`);
  return base = loaded.config.servers[0];
}

/**
 * Returns a server config with the schema's defaults, then `overrides` applied. The
 * protocol defaults to `imap`; `server_name` is fixed to `localhost` (nginx uses the
 * machine's host name) so salts and greetings are deterministic. Each call returns a
 * fresh copy, so a test may change it.
 */
export function testServerConfig(overrides: Partial<ServerConfig> = {}): ServerConfig {
  return { ...structuredClone(loadBase()), ...overrides };
}
