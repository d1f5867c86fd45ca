/**
 * `allow` / `deny` rules with the semantics of nginx's access module: rules are
 * checked in the order written, the first rule that matches the client address
 * decides, and a client no rule matches is allowed. A rule names an IPv4 or IPv6
 * address, a CIDR block, `all` (every client, UNIX-socket clients included) or
 * `unix:` (clients on UNIX sockets). An IPv4-mapped IPv6 client (`::ffff:a.b.c.d`)
 * is matched against IPv4 rules, as nginx does.
 *
 * Pure functions on strings: the session driver calls {@link checkAccess} with the
 * final client address (after PROXY protocol / set_real_ip_from).
 * @module
 */

import { ipBytes } from "../util/ip.ts";

/** What a rule does when it matches. */
export type AccessAction = "allow" | "deny";

/** One parsed rule. */
export interface AccessRule {
  action: AccessAction;
  /** The address as written, for logs and messages. */
  raw: string;
  match:
    | { kind: "all" }
    | { kind: "unix" }
    | { kind: "cidr"; family: 4 | 6; bytes: readonly number[]; prefix: number };
}

/** A parsed rule, or why the text is not one; `warning` for a CIDR with host bits set. */
export type ParsedRule = { ok: true; rule: AccessRule; warning?: string } | { ok: false; error: string };

/** The client address as the access check sees it. */
export type AccessAddress = { transport: "tcp"; ip: string } | { transport: "unix" };

/** Parses `all`, `unix:`, an IP address or a CIDR into a rule. */
export function parseAccessRule(action: AccessAction, text: string): ParsedRule {
  const raw = text.trim();
  if (raw === "all") return { ok: true, rule: { action, raw, match: { kind: "all" } } };
  if (raw === "unix:") return { ok: true, rule: { action, raw, match: { kind: "unix" } } };
  const slash = raw.indexOf("/");
  const ip = slash < 0 ? raw : raw.slice(0, slash);
  const bytes = ipBytes(ip);
  if (bytes === null) {
    return { ok: false, error: `invalid address "${raw}" (expected an IP, a CIDR, "all" or "unix:")` };
  }
  const max = bytes.length * 8;
  let prefix = max;
  if (slash >= 0) {
    const bits = raw.slice(slash + 1);
    if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return { ok: false, error: `invalid CIDR "${raw}"` };
    prefix = Number(bits);
  }
  const masked = bytes.map((b, i) => b & maskByte(prefix, i));
  const warning = masked.some((b, i) => b !== bytes[i])
    ? `low address bits of "${raw}" are meaningless`
    : undefined;
  const family = bytes.length === 4 ? 4 : 6;
  return { ok: true, rule: { action, raw, match: { kind: "cidr", family, bytes: masked, prefix } }, warning };
}

/**
 * The first rule matching `address`, or null when none does (the client is then
 * allowed). Unparsable addresses match only `all`.
 */
export function matchAccess(rules: readonly AccessRule[], address: AccessAddress): AccessRule | null {
  if (rules.length === 0) return null;
  let bytes: number[] | null = null;
  if (address.transport === "tcp") {
    bytes = ipBytes(address.ip);
    // IPv4-mapped IPv6 is checked against the IPv4 rules (nginx does the same).
    if (bytes?.length === 16 && isV4Mapped(bytes)) bytes = bytes.slice(12);
  }
  for (const rule of rules) {
    const m = rule.match;
    if (m.kind === "all") return rule;
    if (m.kind === "unix") {
      if (address.transport === "unix") return rule;
      continue;
    }
    if (bytes === null || bytes.length !== m.bytes.length) continue;
    if (bytes.every((b, i) => (b & maskByte(m.prefix, i)) === m.bytes[i])) return rule;
  }
  return null;
}

/** Whether `address` may connect: the decision and the rule that made it (null = no rule matched). */
export function checkAccess(
  rules: readonly AccessRule[],
  address: AccessAddress,
): { allowed: boolean; rule: AccessRule | null } {
  const rule = matchAccess(rules, address);
  return { allowed: rule === null || rule.action === "allow", rule };
}

/** The mask of byte `i` under a prefix of `prefix` bits. */
function maskByte(prefix: number, i: number): number {
  const bits = Math.max(0, Math.min(8, prefix - i * 8));
  return (0xff << (8 - bits)) & 0xff;
}

function isV4Mapped(bytes: readonly number[]): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

/** Kept for callers of this module; the parser lives in lib/util/ip.ts. */
export { ipBytes as ipToBytes };
