/**
 * Sends a refused client its protocol's refusal line and closes. Bounded in time:
 * a client that never reads cannot keep the connection (and its slot) open.
 * @module
 */

import type { MailProtocol } from "../types.ts";
import type { Conn } from "../transport/mod.ts";
import { refusalLine, type RefusalReason } from "./refusal.ts";

/** How long the refusal line may take to leave before the connection is closed anyway. */
const REFUSAL_WRITE_MS = 1000;

/** Writes the refusal line (best effort) and closes `client`. Never rejects. */
export async function refuseClient(
  client: Conn,
  protocol: MailProtocol,
  reason: RefusalReason,
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, REFUSAL_WRITE_MS)));
  const written = client.write(refusalLine(protocol, reason)).then(() => {}, () => {});
  await Promise.race([written, timeout]);
  clearTimeout(timer);
  client.close();
}

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
