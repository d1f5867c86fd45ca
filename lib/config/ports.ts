/**
 * `--check` helper: tries to bind every TCP listen of a config for a moment, so a port
 * that is already taken is reported before the real start instead of during it.
 * Whether a taken port is a problem (another program) or expected (the running
 * mailproxy itself, as when checking before a reload) is decided by the caller
 * (lib/cli/check.ts), which can ask the running proxy.
 * @module
 */

import { createServer } from "node:net";
import { listenAddress } from "./listen.ts";
import type { Config, ListenSpec } from "./types.ts";

const REASONS: Record<string, string> = {
  EADDRINUSE: "address already in use",
  EACCES: "permission denied (ports below 1024 need privileges)",
  EADDRNOTAVAIL: "address not available on this machine",
};

/** A listen address that could not be bound just now. */
export interface BusyPort {
  /** `host:port` as {@link listenAddress} writes it. */
  address: string;
  /** The socket error code (`EADDRINUSE`, `EACCES`, …), or "" when there was none. */
  code: string;
  /** Human text, e.g. `address already in use`. */
  problem: string;
  /** It is the `[admin] listen` address. */
  admin: boolean;
}

/**
 * Binds each TCP listen (servers and admin) briefly, one after another, and returns each
 * socket that cannot be bound. UNIX sockets are not probed (the server replaces a stale
 * socket file at start).
 */
export async function checkPortsFree(config: Config): Promise<BusyPort[]> {
  const all = [
    ...config.servers.flatMap((s) => s.listen.map((spec) => ({ spec, admin: false }))),
    ...(config.admin.listen ? [{ spec: config.admin.listen, admin: true }] : []),
  ];
  const seen = new Set<string>();
  const busy: BusyPort[] = [];
  for (const { spec, admin } of all) {
    const address = listenAddress(spec);
    if (spec.transport !== "tcp" || seen.has(address)) continue;
    seen.add(address);
    const problem = await tryBind(spec);
    if (problem !== null) busy.push({ address, admin, ...problem });
  }
  return busy;
}

function tryBind(spec: ListenSpec): Promise<{ code: string; problem: string } | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", (e: Error & { code?: string }) => {
      const code = e.code ?? "";
      resolve({ code, problem: REASONS[code] ?? e.message });
    });
    const ipv6Only = spec.host.includes(":") ? spec.ipv6only ?? true : undefined;
    server.listen({ host: spec.host, port: spec.port, exclusive: true, ipv6Only }, () => {
      server.close(() => resolve(null));
    });
  });
}
