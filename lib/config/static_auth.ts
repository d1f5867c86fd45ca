/**
 * The `[static_auth]` table: a default backend and `[[static_auth.user]]` entries with
 * password hashes. Plaintext passwords and duplicate names are rejected.
 * @module
 */

import type { MailProtocol } from "../types.ts";
import { defaultOf } from "./defaults.ts";
import type { Reporter } from "./report.ts";
import { describeTable, readTable } from "./table.ts";
import type { BackendRef, StaticAuthConfig, StaticUser } from "./types.ts";

/** The parsed table plus how many users were written (valid or not). */
export interface StaticAuthRead {
  config: StaticAuthConfig;
  /** User entries in the file, counting invalid ones, so "no users" is not claimed for a typo. */
  declaredUsers: number;
}

type Backends = Partial<Record<MailProtocol, BackendRef>>;

function isTable(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) && !(value instanceof Date);
}

/** Reads `[static_auth]` (absent = no users). */
export function readStaticAuth(value: unknown, baseDir: string, rep: Reporter): StaticAuthRead {
  const failure_wait = defaultOf("static_auth", "failure_wait") as number;
  const empty: StaticAuthRead = { config: { backend: {}, users: [], failure_wait }, declaredUsers: 0 };
  if (value === undefined) return empty;
  if (!isTable(value)) {
    rep.error(["static_auth"], '"static_auth" must be a table: write [static_auth]');
    return empty;
  }
  const table = readTable(value, "static_auth", ["static_auth"], describeTable("static_auth"), baseDir, rep);
  const backend = (table.values.get("backend") ?? {}) as Backends;
  const config = (users: StaticUser[]): StaticAuthConfig => ({
    backend,
    users,
    failure_wait: (table.values.get("failure_wait") ?? failure_wait) as number,
  });
  const rawUsers = value.user;
  if (rawUsers === undefined) return { config: config([]), declaredUsers: 0 };
  if (!Array.isArray(rawUsers)) {
    rep.error(
      ["static_auth", "user"],
      '"user" must be an array of tables: write [[static_auth.user]] (one per user) instead of [static_auth.user]',
    );
    return { config: config([]), declaredUsers: 1 };
  }
  const users: StaticUser[] = [];
  const firstIndex = new Map<string, number>();
  rawUsers.forEach((raw, i) => {
    const path = ["static_auth", "user", i];
    const where = describeTable("static_auth.user", i);
    if (!isTable(raw)) {
      rep.error(path, `each user must be a table ${where}`);
      return;
    }
    const read = readTable(raw, "static_auth.user", path, where, baseDir, rep);
    const name = read.values.get("name") as string | undefined;
    const password = read.values.get("password") as string | undefined;
    if (name !== undefined) {
      const first = firstIndex.get(name);
      if (first !== undefined) {
        rep.error([...path, "name"], `duplicate user "${name}" ${where} (first defined in #${first + 1})`);
        return;
      }
      firstIndex.set(name, i);
    }
    if (
      name === undefined || password === undefined ||
      (read.present.has("backend") && !read.values.has("backend"))
    ) {
      return;
    }
    // Per-protocol fallback: a user's own backend wins, [static_auth].backend fills the rest.
    const own = (read.values.get("backend") ?? {}) as Backends;
    users.push({ name, password, backend: { ...backend, ...own } });
  });
  return { config: config(users), declaredUsers: rawUsers.length };
}
