/**
 * Why a connection is refused before its greeting, and how the log says it. The line
 * the client gets is its protocol's (`accessDenied`/`busy` in lib/protocols/<p>/lines.ts).
 * @module
 */

import type { LimitRefusal } from "./limits.ts";

/** Why a connection is refused before its greeting. */
export type RefusalReason = "access" | LimitRefusal;

/** The log text of a refusal. */
export function refusalText(reason: RefusalReason, rule?: { action: string; raw: string }): string {
  switch (reason) {
    case "access":
      return rule ? `access denied by rule "${rule.action} ${rule.raw}"` : "access denied";
    case "max_connections":
      return "too many connections (max_connections)";
    case "max_connections_per_ip":
      return "too many connections from this address (max_connections_per_ip)";
  }
}
