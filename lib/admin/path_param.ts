/**
 * Path parameters of the admin routes.
 * @module
 */

import type { Context } from "hono";

/**
 * A path parameter, percent-decoded once more if still encoded: clients and proxies differ
 * in whether `%2F` in a prefix (`/limits/ip/…`) or `%3A` in an address (`/upstreams/…`)
 * reaches the router decoded. A value that does not decode is used as given.
 */
export function pathParam(c: Context, name: string): string {
  const raw = c.req.param(name) ?? "";
  try {
    return raw.includes("%") ? decodeURIComponent(raw) : raw;
  } catch {
    return raw;
  }
}
