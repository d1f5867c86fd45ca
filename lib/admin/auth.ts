/**
 * Access to the admin API when `[admin] token` is set: `Authorization: Bearer TOKEN`
 * for scripts, or HTTP Basic with the token as password (any user name) so a browser
 * can open the status page without JavaScript. Comparison is constant-time; the token
 * is never echoed.
 * @module
 */

import type { MiddlewareHandler } from "hono";

/** Middleware requiring the token `token()` returns now (null = open; reloads may change it). */
export function requireToken(token: () => string | null): MiddlewareHandler {
  return async (c, next) => {
    const expected = token();
    if (expected !== null && !authorized(c.req.header("authorization") ?? "", expected)) {
      // One challenge only: fetch Headers join repeated ones into one line, which browsers
      // do not all parse. Browsers (HTML) get Basic so they prompt; API clients get Bearer.
      const browser = c.req.path === "/" || (c.req.header("accept") ?? "").includes("text/html");
      c.header(
        "WWW-Authenticate",
        browser ? 'Basic realm="mailproxy", charset="UTF-8"' : 'Bearer realm="mailproxy"',
      );
      return c.json({ error: "unauthorized", message: "missing or wrong token" }, 401);
    }
    await next();
  };
}

function authorized(header: string, token: string): boolean {
  const space = header.indexOf(" ");
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (scheme === "bearer") return constantTimeEqual(value, token);
  if (scheme === "basic") {
    let decoded: string;
    try {
      decoded = new TextDecoder().decode(Uint8Array.from(atob(value), (ch) => ch.charCodeAt(0)));
    } catch {
      return false;
    }
    return constantTimeEqual(decoded.slice(decoded.indexOf(":") + 1), token);
  }
  return false;
}

/** Compares without an early exit, so timing does not reveal how much of the token matched. */
function constantTimeEqual(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    diff |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0);
  }
  return diff === 0;
}
