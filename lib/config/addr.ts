/**
 * Address syntax shared by `listen`, backends, `resolver` and `set_real_ip_from`.
 * mailproxy resolves no names at config time, so only IP literals (and `localhost`,
 * mapped to 127.0.0.1) are accepted where nginx would look a host up for a socket.
 * @module
 */

import { ipBytes } from "../util/ip.ts";
import { isIPv4, isIPv6 } from "node:net";
import type { Parsed } from "./values.ts";

/** A TCP endpoint with the host as a bare IP literal (IPv6 without brackets). */
export interface HostPort {
  host: string;
  port: number;
}

/** Canonical text of an IPv6 literal (lowercase, zeros compressed) so duplicates compare equal. */
export function canonicalIPv6(ip: string): string {
  try {
    return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return ip.toLowerCase();
  }
}

/** `host:port` for IPv4, `[host]:port` for IPv6. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Parses a decimal port 1–65535. */
export function parsePort(text: string): Parsed<number> {
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) {
    return { ok: false, error: `invalid port "${text}" (1-65535)` };
  }
  return { ok: true, value: Number(text) };
}

/**
 * Splits `HOST:PORT` / `[V6]:PORT` / `HOST` into host text (brackets removed) and the
 * port text (`undefined` when absent). Says whether the host was bracketed.
 */
export function splitHostPort(text: string): { host: string; port?: string; bracketed: boolean } | null {
  if (text.startsWith("[")) {
    const end = text.indexOf("]");
    if (end < 0) return null;
    const rest = text.slice(end + 1);
    if (rest !== "" && !rest.startsWith(":")) return null;
    return { host: text.slice(1, end), port: rest === "" ? undefined : rest.slice(1), bracketed: true };
  }
  const colon = text.lastIndexOf(":");
  // Two or more colons without brackets is a bare IPv6 literal, not host:port.
  if (colon < 0 || text.indexOf(":") !== colon) return { host: text, bracketed: false };
  return { host: text.slice(0, colon), port: text.slice(colon + 1), bracketed: false };
}

/** Maps a host as written to an IP literal, or explains why it cannot be used. */
export function hostToIp(host: string, bracketed: boolean): Parsed<string> {
  if (bracketed) {
    return isIPv6(host)
      ? { ok: true, value: canonicalIPv6(host) }
      : { ok: false, error: `invalid IPv6 address "[${host}]"` };
  }
  if (host === "localhost") return { ok: true, value: "127.0.0.1" };
  if (isIPv4(host)) return { ok: true, value: host };
  if (isIPv6(host)) {
    return { ok: false, error: `IPv6 address "${host}" must be written in brackets: "[${host}]"` };
  }
  if (host === "") return { ok: false, error: "missing host" };
  return {
    ok: false,
    error: `host name "${host}" is not supported here; use an IP address (or localhost)`,
  };
}

/** Parses a backend address `IP:PORT`, `[IPv6]:PORT` or `localhost:PORT` (port required). */
export function parseBackend(text: string): Parsed<HostPort> {
  const parts = splitHostPort(text.trim());
  if (!parts) return { ok: false, error: `invalid address "${text}"` };
  if (parts.port === undefined) return { ok: false, error: `no port in "${text}" (write "host:port")` };
  const host = hostToIp(parts.host, parts.bracketed);
  if (!host.ok) return host;
  const port = parsePort(parts.port);
  if (!port.ok) return port;
  return { ok: true, value: { host: host.value, port: port.value } };
}

const LABEL = "[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?";
const HOSTNAME_RE = new RegExp(`^(?=.{1,253}$)${LABEL}(\\.${LABEL})*\\.?$`);

/** A syntactically valid DNS host name (resolved later by the runtime, never here). */
export function isHostName(text: string): boolean {
  return HOSTNAME_RE.test(text) && !/^[\d.]+$/.test(text);
}

/** Parses a `resolver` address: IP, `[IPv6]`, host name, each with an optional `:port`. */
export function checkResolverAddress(text: string): string | null {
  const parts = splitHostPort(text);
  if (!parts) return `invalid address "${text}"`;
  if (parts.port !== undefined) {
    const port = parsePort(parts.port);
    if (!port.ok) return port.error;
  }
  if (
    parts.bracketed ? isIPv6(parts.host) : isIPv4(parts.host) || isIPv6(parts.host) || isHostName(parts.host)
  ) {
    return null;
  }
  return `invalid address "${text}"`;
}

/**
 * Checks one `set_real_ip_from` entry. Returns an error, or a warning when a CIDR has
 * host bits set (nginx warns "low address bits ... are meaningless" and masks them).
 */
export function checkRealIpEntry(text: string): { error?: string; warning?: string } {
  if (text === "unix:") return {};
  const slash = text.indexOf("/");
  if (slash < 0) {
    if (isIPv4(text) || isIPv6(text) || isHostName(text)) return {};
    return { error: `invalid address "${text}" (expected an IP, a CIDR, a host name or "unix:")` };
  }
  const ip = text.slice(0, slash);
  const bits = text.slice(slash + 1);
  const bytes = ipBytes(ip);
  const max = bytes?.length === 4 ? 32 : 128;
  if (!bytes || !/^\d{1,3}$/.test(bits) || Number(bits) > max) {
    return { error: `invalid CIDR "${text}"` };
  }
  const prefix = Number(bits);
  for (let bit = prefix; bit < max; bit++) {
    if (bytes[bit >> 3] & (0x80 >> (bit & 7))) {
      return { warning: `low address bits of "${text}" are meaningless` };
    }
  }
  return {};
}
