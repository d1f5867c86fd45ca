/**
 * What a config reload does to the listening sockets: pure, so the rules are unit
 * tested without sockets. Listeners are matched by address (`host:port` or
 * `unix:path`): an address in both configs keeps its socket and takes the new
 * server settings (new sessions only), a new address is bound, a vanished one closed.
 * @module
 */

import { listenAddress } from "../config/mod.ts";
import type { ListenSpec, ServerConfig } from "../config/mod.ts";

/** One listen entry of a config with the server it belongs to. */
export interface PlannedListen {
  address: string;
  server: ServerConfig;
  spec: ListenSpec;
}

/** The steps of a reload. */
export interface ListenerPlan {
  /** Addresses bound in both: keep the socket, swap the settings. */
  keep: PlannedListen[];
  /** New addresses to bind. */
  add: PlannedListen[];
  /** Addresses no longer configured: stop accepting there. */
  remove: string[];
  /** Socket options that only a restart can change (the socket is kept as is). */
  warnings: string[];
}

/** Every listen entry of `servers`, keyed by address. */
export function listensOf(servers: readonly ServerConfig[]): PlannedListen[] {
  return servers.flatMap((server) =>
    server.listen.map((spec) => ({ address: listenAddress(spec), server, spec }))
  );
}

/** Options fixed when the socket is created. */
const SOCKET_OPTIONS = ["backlog", "rcvbuf", "sndbuf", "ipv6only", "bind", "so_keepalive"] as const;

/** Plans the move from the listeners bound now (address → spec) to `next`. */
export function planListeners(
  current: ReadonlyMap<string, ListenSpec>,
  next: readonly ServerConfig[],
): ListenerPlan {
  const plan: ListenerPlan = { keep: [], add: [], remove: [], warnings: [] };
  const wanted = listensOf(next);
  const wantedAddresses = new Set(wanted.map((w) => w.address));
  for (const w of wanted) {
    const old = current.get(w.address);
    if (!old) {
      plan.add.push(w);
      continue;
    }
    plan.keep.push(w);
    for (const option of SOCKET_OPTIONS) {
      if (JSON.stringify(old[option]) !== JSON.stringify(w.spec[option])) {
        plan.warnings.push(
          `listen "${w.spec.raw}": a change of ${option} needs a restart; kept the old socket`,
        );
      }
    }
  }
  for (const address of current.keys()) if (!wantedAddresses.has(address)) plan.remove.push(address);
  return plan;
}
