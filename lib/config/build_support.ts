/**
 * Settings valid for nginx but needing a feature this build does not have yet are
 * errors, never silently ignored (see lib/features.ts).
 * @module
 */

import { CLIENT_TLS, SUPPORTED_PROTOCOLS } from "../features.ts";
import type { Config } from "./types.ts";

/** One line per setting this build cannot serve, in the loader's `file:line: …` form. */
export function unsupportedByBuild(config: Config, file: string): string[] {
  const errors: string[] = [];
  for (const s of config.servers) {
    const where = `${file}:${s.line}: [[server]] #${s.index + 1}`;
    if (!SUPPORTED_PROTOCOLS.includes(s.protocol)) {
      errors.push(`${where}: protocol ${s.protocol} is not implemented in this version of mailproxy`);
    }
    if (CLIENT_TLS) continue;
    for (const l of s.listen.filter((l) => l.ssl)) {
      errors.push(`${where}: listen "${l.raw}": TLS towards clients is not implemented in this version`);
    }
    if (s.starttls !== "off") {
      errors.push(
        `${where}: starttls = "${s.starttls}": TLS towards clients is not implemented in this version`,
      );
    }
  }
  return errors;
}
