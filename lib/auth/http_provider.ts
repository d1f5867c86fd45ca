/**
 * The auth_http provider: asks an nginx-compatible HTTP auth server (spec §3) over a
 * new connection per request (or a kept-alive one with auth_http_keepalive), following
 * `Auth-Status: WAIT` re-queries.
 * @module
 */

import type { AuthProvider, AuthRequest, AuthResult } from "./types.ts";
import type { AuthHttpUrl } from "../config/mod.ts";
import type { Conn, ReadSizing, Transport } from "../transport/mod.ts";
import { AuthReplyParser, buildAuthRequest, decide, requestHasPassword } from "./http_codec.ts";
import type { ParsedReply } from "./http_codec.ts";
import { IdlePool } from "./idle_pool.ts";
import { sleep } from "../util/timers.ts";

/**
 * nginx re-queries on WAIT without limit; a misbehaving auth server could then hold a
 * session forever, so mailproxy gives up after this many WAIT replies in one attempt.
 */
export const MAX_WAIT_ROUNDS = 100;

/** Options of {@link HttpAuthProvider}. */
export interface HttpAuthProviderOptions {
  url: AuthHttpUrl;
  /** `auth_http_header` lines, in config order. */
  headers: [string, string][];
  /** `auth_http_timeout` (ms): one deadline for connect, send and reading the reply head. */
  timeoutMs: number;
  transport: Transport;
  /** `auth_http_pass_client_cert`. */
  passClientCert?: boolean;
  /** `auth_http_keepalive`: idle connections kept (0 or absent: a new one per request). */
  keepAlive?: number;
  /** `auth_http_keepalive_timeout` (ms). */
  keepAliveTimeoutMs?: number;
}

/** Head of the reply buffered: small, the head is at most 1024 bytes. */
const SIZING: ReadSizing = { min: 1024, max: 1024 };

type Exchange = ParsedReply | { error: string };

/** Asks an auth_http server; never throws. */
export class HttpAuthProvider implements AuthProvider {
  readonly name = "http";
  readonly #opts: HttpAuthProviderOptions;
  /** `host:port` (or `unix:path`) as nginx names the auth server in its logs. */
  readonly peer: string;

  readonly #pool: IdlePool | null;

  constructor(opts: HttpAuthProviderOptions) {
    this.#opts = opts;
    this.#pool = opts.keepAlive ? new IdlePool(opts.keepAlive, opts.keepAliveTimeoutMs ?? 60_000) : null;
    this.peer = opts.url.transport === "unix" ? `unix:${opts.url.host}` : `${opts.url.host}:${opts.url.port}`;
  }

  /** Closes the kept-alive idle connections (at shutdown; `Mailproxy` calls it). */
  close(): void {
    this.#pool?.close();
  }

  async authenticate(request: AuthRequest, signal?: AbortSignal): Promise<AuthResult> {
    try {
      return await this.#authenticate(request, signal);
    } catch (err) {
      // Defensive: nothing below should throw, but the contract is "never throw".
      return { status: "error", reason: `auth http server ${this.peer} failed: ${describe(err)}` };
    }
  }

  async #authenticate(request: AuthRequest, signal?: AbortSignal): Promise<AuthResult> {
    const { url, headers, passClientCert } = this.#opts;
    // Built once: WAIT re-queries send the same request (same attempt number), as nginx does.
    const bytes = buildAuthRequest(url, request, headers, { passClientCert, keepAlive: this.#pool !== null });
    const hasPassword = requestHasPassword(request);
    for (let round = 0; round <= MAX_WAIT_ROUNDS; round++) {
      if (signal?.aborted) return aborted();
      const reply = await this.#exchange(bytes, signal);
      if ("error" in reply) {
        if (signal?.aborted) return aborted();
        return { status: "error", reason: `auth http server ${this.peer} ${reply.error}` };
      }
      const outcome = decide(reply, request.protocol, {
        hasPassword,
        peer: this.peer,
        defaultUpstream: request.defaultUpstream,
        oauth: request.method === "oauthbearer" || request.method === "xoauth2",
      });
      if (outcome.status !== "wait") return outcome;
      if (!(await sleep(outcome.wait * 1000, signal))) return aborted();
    }
    return {
      status: "error",
      reason: `auth http server ${this.peer} sent more than ${MAX_WAIT_ROUNDS} WAIT replies`,
    };
  }

  /**
   * One request, bounded by auth_http_timeout from connect to the blank line. With
   * auth_http_keepalive an idle connection is reused when there is one; if the server
   * closed it meanwhile (nothing came back), the request is sent once more on a new one.
   */
  async #exchange(bytes: Uint8Array, signal?: AbortSignal): Promise<Exchange> {
    const { timeoutMs } = this.#opts;
    let conn: Conn | null = null;
    let keep = false;
    let finished = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: (() => void) | undefined;

    const stop = new Promise<Exchange>((resolve) => {
      timer = setTimeout(() => resolve({ error: "timed out" }), timeoutMs);
      onAbort = () => resolve({ error: "request aborted" });
      signal?.addEventListener("abort", onAbort, { once: true });
    });

    const work = (async (): Promise<Exchange> => {
      while (true) {
        const idle = this.#pool?.take() ?? null;
        let first: Promise<Uint8Array | null> | null = null;
        if (idle) {
          conn = idle.conn;
          first = idle.next;
        } else {
          let c: Conn;
          try {
            c = await this.#connect();
          } catch (err) {
            return { error: `connect failed: ${describe(err)}` };
          }
          if (finished) {
            // Timed out or aborted while connecting: nobody will read this one.
            c.close();
            return { error: "timed out" };
          }
          conn = c;
        }
        const c = conn;
        let got = 0;
        try {
          await c.write(bytes);
          const parser = new AuthReplyParser();
          while (true) {
            const chunk = first ? await first : await c.read();
            first = null;
            if (chunk === null) {
              if (idle && got === 0) break; // closed while idle: retry on a new connection
              return { error: "closed connection prematurely" };
            }
            got += chunk.length;
            const result = parser.feed(chunk);
            if (result === "more") continue;
            keep = !("error" in result) && this.#pool !== null && reusable(result, parser.extraBytes);
            return result;
          }
        } catch (err) {
          if (!(idle && got === 0)) return { error: `connection failed: ${describe(err)}` };
        }
        c.close();
        conn = null;
        if (finished) return { error: "timed out" };
      }
    })();

    try {
      return await Promise.race([work, stop]);
    } finally {
      finished = true;
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener("abort", onAbort);
      const c = conn as Conn | null;
      // nginx closes after the head and never reads a body; closing also ends a pending read.
      if (c && keep) this.#pool!.give(c);
      else c?.close();
    }
  }

  #connect(): Promise<Conn> {
    const { url } = this.#opts;
    const transport = this.#opts.transport;
    return url.transport === "unix"
      ? transport.connectUnix(url.host, SIZING)
      : transport.connect(url.host.replace(/^\[(.*)\]$/, "$1"), url.port, SIZING);
  }
}

/** A reply after which the connection can carry the next request: keep-alive, no body. */
function reusable(reply: ParsedReply, extraBytes: number): boolean {
  if (reply.connection?.toLowerCase() !== "keep-alive") return false;
  if (reply.contentLength !== undefined && !/^0+$/.test(reply.contentLength)) return false;
  return extraBytes === 0;
}

function aborted(): AuthResult {
  return { status: "error", reason: "auth http request aborted" };
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
