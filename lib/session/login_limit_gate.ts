/**
 * The session's side of `[login_limits]` (lib/limits): before the auth service is
 * asked, a blocked client network or user gets the protocol's temporary failure and
 * the session ends; after the answer, a failure is counted (its delay joins Auth-Wait)
 * and a success makes the network known for the user. The counters live in the
 * process's {@link LoginLimits}; nothing here keeps state.
 * @module
 */

import type { AuthResult } from "../auth/mod.ts";
import type { Frontend } from "../protocols/mod.ts";
import type { Credentials } from "../types.ts";
import { addressIp } from "../transport/mod.ts";
import { binaryForDisplay } from "../util/bytes.ts";
import type { SessionScope } from "./scope.ts";

/**
 * True when the login may go on; false after the block line was written (the caller
 * ends the session). UNIX-socket clients have no network and are not limited.
 */
export async function loginAllowed(
  s: SessionScope,
  frontend: Frontend,
  credentials: Credentials,
): Promise<boolean> {
  const limits = s.deps.loginLimits;
  const ip = addressIp(s.client.remoteAddr);
  if (!limits || ip === "unix:") return true;
  const verdict = limits.check(ip, credentials.user, Date.now());
  if (!verdict.blocked) return true;
  s.deps.metrics.logins.inc({ protocol: s.server.protocol, method: credentials.method, result: "blocked" });
  s.log.warn('login "{user}" refused: {by} {key} blocked by login_limits for {seconds}s', {
    user: binaryForDisplay(credentials.user),
    by: verdict.by === "ip" ? "client network" : "user",
    key: verdict.by === "ip" ? verdict.key : binaryForDisplay(verdict.key),
    seconds: Math.ceil((verdict.until - Date.now()) / 1000),
  });
  await s.client.write(frontend.loginBlocked());
  return false;
}

/**
 * Counts the auth service's answer; returns how long (ms) to wait before the failure
 * reply: the longer of Auth-Wait and the limits' delay. 0 for a success or an error.
 */
export function countLogin(s: SessionScope, credentials: Credentials, result: AuthResult): number {
  const limits = s.deps.loginLimits;
  const ip = addressIp(s.client.remoteAddr);
  const authWait = result.status === "fail" ? result.wait * 1000 : 0;
  if (!limits || ip === "unix:") return authWait;
  if (result.status === "ok") limits.success(ip, credentials.user, Date.now());
  if (result.status !== "fail") return authWait;
  return Math.max(authWait, limits.failure(ip, credentials.user, credentials.pass, Date.now()));
}
