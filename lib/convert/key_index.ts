/**
 * Finds the TOML key of an nginx directive in the config schema (`CONFIG_KEYS`): a key
 * maps a directive when its `directive` syntax starts with the directive's name (a key
 * may list several, as `allow …; deny …;`). So a key added to the schema is converted
 * without touching the converter, unless it brings a new value kind.
 * @module
 */

import { CONFIG_KEYS, type KeySpec } from "../config/mod.ts";

/** Where a directive appears in nginx.conf. */
export type NginxContext = "main" | "mail" | "server";

const INDEX = new Map<string, KeySpec>();
for (const spec of CONFIG_KEYS) {
  if (spec.directive === null) continue;
  if (spec.context !== "top" && spec.context !== "mail" && spec.context !== "server") continue;
  for (const name of directiveNames(spec)) if (!INDEX.has(name)) INDEX.set(name, spec);
}

/** The nginx directives a key stands for: the first word of each `;`-separated syntax. */
export function directiveNames(spec: KeySpec): string[] {
  if (spec.directive === null) return [];
  return spec.directive.split(";").map((s) => s.trim().split(/\s/)[0]).filter((n) => n !== "");
}

/** The key for nginx directive `name`, if mailproxy knows the directive. */
export function keyForDirective(name: string): KeySpec | undefined {
  return INDEX.get(name);
}

/** Every nginx directive name the schema knows (for "did you mean"). */
export function knownDirectives(): string[] {
  return [...INDEX.keys()];
}

/** Whether a key's directive may be written in an nginx context. */
export function allowedIn(spec: KeySpec, context: NginxContext): boolean {
  if (spec.context === "top") return context === "main";
  if (spec.context === "server") return context === "server";
  return context === "mail" || context === "server";
}

/** nginx's name for where a key's directive belongs, for messages. */
export function contextName(spec: KeySpec): string {
  return spec.context === "top"
    ? "the main context"
    : spec.context === "server"
    ? "server {}"
    : "mail {} or server {}";
}
