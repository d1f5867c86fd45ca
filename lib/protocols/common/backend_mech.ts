/**
 * Which mechanism logs an OAuth user in to the backend (`proxy_auth_mech`): the usual
 * password login, or the client's OAuth mechanism replayed with the token (what
 * Dovecot calls `proxy_mech`). Pure decision, no I/O.
 * @module
 */

import type { AuthOk } from "../../auth/mod.ts";
import type { Credentials } from "../../types.ts";

/** The backend login mechanism. */
export type BackendMech = "plain" | "oauthbearer" | "xoauth2";

/**
 * `auto`: an OAuth login without `Auth-Pass` in the reply replays the client's mechanism;
 * with `Auth-Pass` (token swapped) or a non-OAuth login, the password login as before.
 * A forced mechanism applies to OAuth logins only: a password is no bearer token.
 */
export function backendMech(setting: string, ok: AuthOk, credentials: Credentials): BackendMech {
  const oauth = credentials.method === "oauthbearer" || credentials.method === "xoauth2";
  if (!oauth) return "plain";
  switch (setting) {
    case "plain":
      return "plain";
    case "oauthbearer":
    case "xoauth2":
      return setting;
    default:
      return ok.pass === undefined ? credentials.method as BackendMech : "plain";
  }
}
