/**
 * The start every backend login dialogue shares: the login and password it sends
 * (Auth-User / Auth-Pass replacing the client's own) and the reply reader configured
 * from `proxy_buffer` / `proxy_pass_error_message`, which keeps that password out of
 * log lines.
 * @module
 */

import type { AuthOk } from "../../auth/mod.ts";
import type { ServerConfig } from "../../config/mod.ts";
import type { Credentials } from "../../types.ts";
import { BackendReplies } from "./backend_replies.ts";

/** The server options a backend reply reader reads. */
export type BackendRepliesConfig = Pick<ServerConfig, "proxy_buffer" | "proxy_pass_error_message">;

/** A reply reader for one login dialogue; `secret` is the password it must never log. */
export function backendReplies(
  config: BackendRepliesConfig,
  internalError: string,
  secret: string,
): BackendReplies {
  return new BackendReplies({
    proxyBuffer: config.proxy_buffer,
    passErrorMessage: config.proxy_pass_error_message,
    internalError,
    secret,
  });
}

/** What a backend login sends and the reader of the backend's replies. */
export interface BackendCredentials {
  user: string;
  pass: string;
  replies: BackendReplies;
}

/** `ok.user` / `ok.pass` (Auth-User / Auth-Pass) replace the client's login and password. */
export function backendCredentials(
  config: BackendRepliesConfig,
  ok: AuthOk,
  credentials: Credentials,
  internalError: string,
): BackendCredentials {
  const pass = ok.pass ?? credentials.pass;
  return {
    user: ok.user ?? credentials.user,
    pass,
    replies: backendReplies(config, internalError, pass),
  };
}
