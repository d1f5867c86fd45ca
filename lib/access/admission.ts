/**
 * The admission decision for a new client: access rules first (a denied client is
 * never counted), then the connection limits. Kept apart from the session driver
 * so it can run wherever the client address becomes final (after PROXY protocol).
 * @module
 */

import type { Address } from "../transport/mod.ts";
import type { ConnectionLimits } from "./limits.ts";
import type { RefusalReason } from "./refuse.ts";
import { type AccessAddress, type AccessRule, checkAccess } from "./rules.ts";

/** Admitted (release once when the session ends), or refused with the reason and, for access, the rule. */
export type AdmissionResult =
  | { ok: true; release: () => void }
  | { ok: false; reason: RefusalReason; rule?: AccessRule };

/** The access-check view of a transport address. */
export function accessAddress(address: Address): AccessAddress {
  return address.transport === "unix" ? { transport: "unix" } : { transport: "tcp", ip: address.hostname };
}

/** Decides whether the client at `address` may start a session. */
export function admitClient(
  rules: readonly AccessRule[],
  address: Address,
  limits: ConnectionLimits | undefined,
): AdmissionResult {
  const who = accessAddress(address);
  const access = checkAccess(rules, who);
  if (!access.allowed) return { ok: false, reason: "access", rule: access.rule ?? undefined };
  if (!limits) return { ok: true, release: () => {} };
  const admitted = limits.admit(who.transport === "unix" ? "unix:" : canonicalKey(who.ip));
  return admitted.ok ? admitted : { ok: false, reason: admitted.reason };
}

/** One key per client: IPv4-mapped IPv6 counts as the IPv4 address. */
function canonicalKey(ip: string): string {
  return ip.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, "").toLowerCase();
}
