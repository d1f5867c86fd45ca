/**
 * One converted level (the mail level, or one `server {}`): the keys in the order
 * their directives first appear, repeated list directives merged into one array,
 * and in-place comments for what was not converted.
 * @module
 */

import type { KeySpec, TomlValue } from "../config/mod.ts";
import type { Directive } from "./parse.ts";
import type { TomlItem } from "./toml_write.ts";
import { REPEATABLE } from "./values.ts";

interface Slot {
  spec: KeySpec;
  /** One value per directive, merged when rendered. */
  parts: TomlValue[];
  comments: string[];
  trailing: string[];
}

type Entry = { slot: Slot } | { lines: string[] };

/** The keys and comments of one level, in source order. */
export class Level {
  readonly #entries: Entry[] = [];
  readonly #slots = new Map<string, Slot>();
  /** `ssl on|off` (removed from nginx): whether this level's listens all use TLS. */
  sslOn?: boolean;

  /** Whether the key was already set at this level. */
  has(name: string): boolean {
    return this.#slots.has(name);
  }

  /** Header names already in this level's `auth_http_header` table. */
  headerNames(name: string): string[] {
    const slot = this.#slots.get(name);
    return slot ? slot.parts.flatMap((p) => Object.keys(p as Record<string, TomlValue>)) : [];
  }

  /** Adds a directive's value (appended to the key's earlier values for list directives). */
  add(spec: KeySpec, value: TomlValue, d: Directive, notes: string[] = []): void {
    const trailing = [...d.trailing, ...notes.map((n) => ` note: ${n}`)];
    const slot = this.#slots.get(spec.name);
    if (slot) {
      slot.parts.push(value);
      slot.comments.push(...d.comments);
      slot.trailing.push(...trailing);
      return;
    }
    const created: Slot = { spec, parts: [value], comments: [...d.comments], trailing };
    this.#slots.set(spec.name, created);
    this.#entries.push({ slot: created });
  }

  /** Adds comment lines at the current position. */
  comment(lines: string[]): void {
    if (lines.length > 0) this.#entries.push({ lines });
  }

  /** The level as TOML items; `ssl` says whether `ssl on` applies (own or inherited). */
  items(ssl: boolean): TomlItem[] {
    return this.#entries.map((e): TomlItem => {
      if ("lines" in e) return { kind: "comment", lines: e.lines };
      const { spec, comments, trailing } = e.slot;
      let value = merge(spec, e.slot.parts);
      if (spec.kind === "listen" && ssl) value = withSsl(value);
      return { kind: "key", key: spec.name, value, comments, trailing };
    });
  }
}

function merge(spec: KeySpec, parts: TomlValue[]): TomlValue {
  if (spec.kind === "headers") return Object.assign({}, ...parts);
  if (!REPEATABLE.has(spec.kind)) return parts[0];
  const all = parts.flat();
  // One listen or certificate reads better as a plain string; both forms are accepted.
  return all.length === 1 && (spec.kind === "listen" || spec.kind === "path_list") ? all[0] : all;
}

/** nginx's removed `ssl on` made every listen of the server TLS: say so in each listen. */
function withSsl(value: TomlValue): TomlValue {
  const add = (v: TomlValue) =>
    typeof v === "string" && !v.split(/\s+/).slice(1).includes("ssl") ? `${v} ssl` : v;
  return Array.isArray(value) ? value.map(add) : add(value);
}
