/**
 * The `auth_http` URL: `[http://]host[:port][/uri]` or `unix:/path[:/uri]` (spec §1.2).
 * Host names are kept as written; the auth client resolves them once at start, as nginx.
 * @module
 */

import { isAbsolute, resolve } from "node:path";
import { isIPv4, isIPv6 } from "node:net";
import type { AuthHttpUrl } from "./types.ts";
import { isHostName, parsePort, splitHostPort } from "./addr.ts";
import type { Parsed } from "./values.ts";

/** Parses an auth_http URL; relative `unix:` paths resolve against `baseDir`. */
export function parseAuthHttpUrl(raw: string, baseDir: string): Parsed<AuthHttpUrl> {
  const fail = (error: string): Parsed<AuthHttpUrl> => ({ ok: false, error });
  let rest = raw.trim();
  if (/^https:\/\//i.test(rest)) {
    return fail("auth_http does not support https (as in nginx); use a local http endpoint");
  }
  if (/^http:\/\//i.test(rest)) rest = rest.slice(7);
  else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(rest)) {
    return fail(`unsupported URL scheme in "${raw}" (use http://)`);
  }

  if (rest.startsWith("unix:")) {
    const colon = rest.indexOf(":", 5);
    const path = colon < 0 ? rest.slice(5) : rest.slice(5, colon);
    const uri = colon < 0 ? "/" : rest.slice(colon + 1);
    if (path === "") return fail(`no socket path in "${raw}"`);
    if (!uri.startsWith("/")) return fail(`the URI in "${raw}" must start with "/"`);
    const socket = isAbsolute(path) ? path : resolve(baseDir, path);
    return {
      ok: true,
      value: { raw, transport: "unix", host: socket, port: 0, uri, hostHeader: "localhost" },
    };
  }

  const slash = rest.indexOf("/");
  const hostPort = slash < 0 ? rest : rest.slice(0, slash);
  const uri = slash < 0 ? "/" : rest.slice(slash);
  const parts = splitHostPort(hostPort);
  if (!parts || parts.host === "") return fail(`invalid URL "${raw}" (expected http://host[:port][/uri])`);
  const validHost = parts.bracketed ? isIPv6(parts.host) : isIPv4(parts.host) || isHostName(parts.host);
  if (!validHost) return fail(`invalid host in "${raw}"`);
  let port = 80;
  if (parts.port !== undefined) {
    const parsed = parsePort(parts.port);
    if (!parsed.ok) return fail(`${parsed.error} in "${raw}"`);
    port = parsed.value;
  }
  if (/[\s]/.test(uri)) return fail(`the URI in "${raw}" must not contain spaces`);
  const host = parts.bracketed ? `[${parts.host}]` : parts.host;
  return { ok: true, value: { raw, transport: "tcp", host, port, uri, hostHeader: host } };
}
