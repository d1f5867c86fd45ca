/**
 * Helpers for the config tests: a temporary directory with dummy certificate files and
 * loaders that assert success or failure.
 * @module
 */

import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfigText } from "./load.ts";
import type { Config } from "./types.ts";

/** A fresh directory holding `cert.pem`, `key.pem` and `ca.pem` (contents are not parsed). */
export function certDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "mailproxy-config-"));
  for (const name of ["cert.pem", "key.pem", "ca.pem", "cert2.pem"]) writeFileSync(join(dir, name), "x\n");
  return dir;
}

/** Loads TOML that must be valid; fails the test with the errors otherwise. */
export function loadOk(text: string, baseDir = "/nonexistent"): Config {
  const r = loadConfigText(text, "proxy.toml", { baseDir, ignoreBuildSupport: true });
  if (!r.ok) assert.fail(`expected a valid config, got:\n${r.errors.join("\n")}`);
  return r.config;
}

/** Loads TOML that must be invalid and returns its errors. */
export function loadErrors(text: string, baseDir = "/nonexistent"): string[] {
  const r = loadConfigText(text, "proxy.toml", { baseDir, ignoreBuildSupport: true });
  if (r.ok) assert.fail("expected errors, but the config loaded");
  return r.errors;
}

/** A well-formed scrypt PHC string (salt "saltsalt", a dummy 16-byte hash). */
export const HASH = "$scrypt$ln=14,r=8,p=1$c2FsdHNhbHQ$YWFhYWFhYWFhYWFhYWFhYQ";

/** A minimal valid server block using auth_http. */
export const MINIMAL =
  `auth_http = "http://127.0.0.1:9000/auth"\n[[server]]\nlisten = "127.0.0.1:1143"\nprotocol = "imap"\n`;
