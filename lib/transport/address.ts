/**
 * Address formatting shared by logs, auth requests and the admin API.
 * @module
 */

import type { Address } from "./types.ts";

/** The client IP as auth_http's `Client-IP` wants it: no port, IPv6 without brackets, `unix:` for sockets. */
export function addressIp(addr: Address): string {
  return addr.transport === "unix" ? "unix:" : addr.hostname;
}

/** The port, 0 for UNIX sockets. */
export function addressPort(addr: Address): number {
  return addr.transport === "unix" ? 0 : addr.port;
}

/** `1.2.3.4:5`, `[::1]:5`, or `unix:/path`. */
export function formatAddress(addr: Address): string {
  if (addr.transport === "unix") return `unix:${addr.path}`;
  return formatHostPort(addr.hostname, addr.port);
}

/** `host:port` with brackets around IPv6 literals. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
