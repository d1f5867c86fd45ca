/**
 * Transparent relaying after login (spec §5.6): one pump per direction, each
 * awaiting its write before reading again (back-pressure), client EOF is passed
 * on as a half-close, and `proxy_timeout` is re-armed only by client-side
 * activity, as in nginx.
 * @module
 */

import type { Conn } from "../transport/types.ts";

/** How and why a relay ended. */
export type RelayEnd = "closed" | "timeout" | "error" | "aborted";

/** Relay settings. */
export interface RelayOptions {
  /** Idle limit in ms, re-armed by reads from / writes to the client. */
  proxyTimeout: number;
  /** Called per chunk written towards the backend / towards the client. */
  onUpstream?: (bytes: number) => void;
  onDownstream?: (bytes: number) => void;
  /** Ends the relay (kick, shutdown). */
  signal?: AbortSignal;
}

/** The outcome of {@link relay}. */
export interface RelayResult {
  end: RelayEnd;
  upstreamBytes: number;
  downstreamBytes: number;
  /** Which side ended it, or the error message. */
  detail: string;
}

/**
 * Relays until the backend hits EOF (after the client's EOF was passed on, or on
 * its own), either side errors, the client is idle
 * past `proxyTimeout`, or `signal` aborts. Closes both connections before returning.
 */
export function relay(client: Conn, backend: Conn, options: RelayOptions): Promise<RelayResult> {
  let upstreamBytes = 0;
  let downstreamBytes = 0;
  let lastClientActivity = Date.now();
  let finished = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  return new Promise<RelayResult>((resolve) => {
    const finish = (end: RelayEnd, detail: string) => {
      if (finished) return;
      finished = true;
      if (timer !== undefined) clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      client.close();
      backend.close();
      resolve({ end, upstreamBytes, downstreamBytes, detail });
    };

    // One timer per session, pushed forward lazily: cheaper than resetting a
    // timer on every chunk of a bulk transfer.
    const armTimer = (delay: number) => {
      timer = setTimeout(() => {
        const idle = Date.now() - lastClientActivity;
        if (idle >= options.proxyTimeout) finish("timeout", "client timed out");
        else armTimer(options.proxyTimeout - idle);
      }, delay);
    };
    armTimer(options.proxyTimeout);

    const onAbort = () => finish("aborted", String(options.signal?.reason ?? "aborted"));
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener("abort", onAbort);

    const up = async () => {
      while (true) {
        const chunk = await client.read();
        if (chunk === null) break;
        lastClientActivity = Date.now();
        await backend.write(chunk);
        upstreamBytes += chunk.length;
        options.onUpstream?.(chunk.length);
      }
      await backend.closeWrite();
    };
    const down = async () => {
      while (true) {
        const chunk = await backend.read();
        if (chunk === null) break;
        await client.write(chunk);
        lastClientActivity = Date.now();
        downstreamBytes += chunk.length;
        options.onDownstream?.(chunk.length);
      }
    };
    // Client EOF is passed on as a half-close so replies to its last commands
    // (a pipelined LOGOUT) still arrive; backend EOF ends the session, as there is
    // nothing a client could still say to a closed mailbox server.
    up().then(() => {}, (err) => finish("error", `client side: ${errorText(err)}`));
    down().then(
      () => finish("closed", "backend closed"),
      (err) => finish("error", `backend side: ${errorText(err)}`),
    );
  });
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
