/**
 * `--check` helper: tries to bind every TCP listen of a config for a moment, so a port
 * that is already taken is reported before the real start instead of during it.
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

/**
 * Binds each TCP listen (servers and admin) briefly, one after another, and returns one
 * line per socket that cannot be bound, e.g. `listen "127.0.0.1:1143": address already in use`.
 * UNIX sockets are not probed (the server replaces a stale socket file at start).
 */
export async function checkPortsFree(config: Config): Promise<string[]> {
  const all = [
    ...config.servers.flatMap((s) => s.listen),
    ...(config.admin.listen ? [config.admin.listen] : []),
  ];
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const spec of all) {
    const address = listenAddress(spec);
    if (spec.transport !== "tcp" || seen.has(address)) continue;
    seen.add(address);
    const problem = await tryBind(spec);
    if (problem !== null) problems.push(`listen "${address}": ${problem}`);
  }
  return problems;
}

function tryBind(spec: ListenSpec): Promise<string | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", (e: Error & { code?: string }) => {
      resolve(REASONS[e.code ?? ""] ?? e.message);
    });
    const ipv6Only = spec.host.includes(":") ? spec.ipv6only ?? true : undefined;
    server.listen({ host: spec.host, port: spec.port, exclusive: true, ipv6Only }, () => {
      server.close(() => resolve(null));
    });
  });
}
