/**
 * The `listen` syntax of spec §1.3: `ADDRESS[:PORT] | PORT | unix:PATH` followed by
 * space-separated options. One string may yield several sockets (port ranges).
 * @module
 */

import { isAbsolute, resolve } from "node:path";
import type { ListenSpec } from "./types.ts";
import { formatHostPort, hostToIp, parsePort, splitHostPort } from "./addr.ts";
import { parseDuration, parseSize } from "./values.ts";

/** What one listen string turned into. Messages carry no file location. */
export interface ListenParse {
  specs: ListenSpec[];
  errors: string[];
  warnings: string[];
}

/** Most sockets one port range may open; a typo like "1-65535" should not bind the machine. */
const MAX_RANGE = 1000;

/** The address:port text used in messages and duplicate detection. */
export function listenAddress(spec: ListenSpec): string {
  return spec.transport === "unix" ? `unix:${spec.host}` : formatHostPort(spec.host, spec.port);
}

/**
 * Parses one listen string. `baseDir` anchors relative `unix:` paths (like every
 * other path in the config file).
 */
export function parseListen(raw: string, baseDir: string): ListenParse {
  const out: ListenParse = { specs: [], errors: [], warnings: [] };
  const [address, ...options] = raw.trim().split(/\s+/);
  if (!address) {
    out.errors.push("empty listen address");
    return out;
  }
  const base = parseAddress(address, baseDir, out.errors);
  const opts = parseOptions(options, out);
  if (!base) return out;
  if (opts.ipv6only !== undefined && base.transport === "tcp" && !base.host.includes(":")) {
    out.errors.push(`ipv6only is not supported on addr "${address}"`);
  }
  for (const port of base.ports) {
    out.specs.push({ raw, transport: base.transport, host: base.host, port, ...opts });
  }
  return out;
}

interface BaseAddress {
  transport: "tcp" | "unix";
  host: string;
  ports: number[];
}

function parseAddress(text: string, baseDir: string, errors: string[]): BaseAddress | null {
  if (text.startsWith("unix:")) {
    const path = text.slice(5);
    if (path === "") {
      errors.push(`no path in "${text}"`);
      return null;
    }
    return { transport: "unix", host: isAbsolute(path) ? path : resolve(baseDir, path), ports: [0] };
  }
  // A bare port (or range) means every IPv4 address, as nginx's `listen 143`.
  const parts = /^[\d-]+$/.test(text) ? { host: "*", port: text, bracketed: false } : splitHostPort(text);
  if (!parts) {
    errors.push(`invalid address "${text}"`);
    return null;
  }
  if (parts.port === undefined && !parts.bracketed && parts.host.includes(":")) {
    errors.push(`IPv6 address "${text}" must be written in brackets: "[ADDRESS]:PORT"`);
    return null;
  }
  if (parts.port === undefined || parts.port === "") {
    errors.push(`no port in "${text}"`);
    return null;
  }
  const host = parts.host === "*" && !parts.bracketed
    ? { ok: true as const, value: "0.0.0.0" }
    : hostToIp(parts.host, parts.bracketed);
  if (!host.ok) {
    errors.push(host.error);
    return null;
  }
  const ports = parsePorts(parts.port, errors);
  return ports ? { transport: "tcp", host: host.value, ports } : null;
}

function parsePorts(text: string, errors: string[]): number[] | null {
  const range = /^(\d+)-(\d+)$/.exec(text);
  if (!range) {
    const port = parsePort(text);
    if (!port.ok) errors.push(port.error);
    return port.ok ? [port.value] : null;
  }
  const from = parsePort(range[1]);
  const to = parsePort(range[2]);
  if (!from.ok || !to.ok || from.value > to.value) {
    errors.push(`invalid port range "${text}"`);
    return null;
  }
  if (to.value - from.value + 1 > MAX_RANGE) {
    errors.push(`port range "${text}" is too large (at most ${MAX_RANGE} ports)`);
    return null;
  }
  return Array.from({ length: to.value - from.value + 1 }, (_, i) => from.value + i);
}

type ListenOptions = Omit<ListenSpec, "raw" | "transport" | "host" | "port">;

function parseOptions(options: string[], out: ListenParse): ListenOptions {
  const opts: ListenOptions = { ssl: false, proxy_protocol: false };
  // Every socket-level option needs its own socket, so it implies `bind` (spec §1.3).
  const implyBind = () => opts.bind = true;
  for (const option of options) {
    const eq = option.indexOf("=");
    const name = eq < 0 ? option : option.slice(0, eq);
    const value = eq < 0 ? undefined : option.slice(eq + 1);
    const bad = (what = name) => out.errors.push(`invalid ${what} "${option}"`);
    if (value === undefined && (name === "ssl" || name === "proxy_protocol" || name === "bind")) {
      opts[name] = true;
    } else if (value === undefined && name === "multipath") {
      implyBind();
      out.warnings.push('listen option "multipath" (MPTCP) is not supported by mailproxy and is ignored');
    } else if (name === "backlog" && value !== undefined) {
      if (/^\d+$/.test(value) && Number(value) > 0 && Number(value) <= 65535) opts.backlog = Number(value);
      else bad();
      implyBind();
    } else if ((name === "rcvbuf" || name === "sndbuf") && value !== undefined) {
      const size = parseSize(value);
      if (size.ok && size.value > 0) opts[name] = size.value;
      else bad();
      implyBind();
    } else if (name === "ipv6only" && value !== undefined) {
      if (value === "on" || value === "off") opts.ipv6only = value === "on";
      else bad();
      implyBind();
    } else if (name === "so_keepalive" && value !== undefined) {
      const keepalive = parseKeepalive(value);
      if (keepalive === undefined) bad();
      else opts.so_keepalive = keepalive;
      implyBind();
    } else {
      out.errors.push(`invalid parameter "${option}"`);
    }
  }
  return opts;
}

/** `on`, `off`, or `[IDLE]:[INTVL]:[CNT]` with at least one part (times in seconds by default). */
function parseKeepalive(value: string): ListenSpec["so_keepalive"] | undefined {
  if (value === "on") return true;
  if (value === "off") return false;
  const parts = value.split(":");
  if (parts.length !== 3 || parts.every((p) => p === "")) return undefined;
  const result: { idle?: number; interval?: number; count?: number } = {};
  const [idle, interval, count] = parts;
  for (const [key, text] of [["idle", idle], ["interval", interval]] as const) {
    if (text === "") continue;
    const ms = parseDuration(text);
    if (!ms.ok || ms.value === 0) return undefined;
    result[key] = ms.value;
  }
  if (count !== "") {
    if (!/^\d+$/.test(count) || Number(count) === 0) return undefined;
    result.count = Number(count);
  }
  return result;
}
