/**
 * Transparent relaying after login (spec §5.6): one pump per direction, each
 * awaiting its write before reading again (back-pressure), client EOF is passed
 * on as a half-close, and `proxy_timeout` is re-armed only by client-side
 * activity, as in nginx.
 * @module
 */

import type { Conn } from "../transport/mod.ts";
import { Deadline } from "../util/deadline.ts";

/** How and why a relay ended. */
export type RelayEnd = "closed" | "timeout" | "error" | "aborted";

/**
 * Byte counts reach `onUpstream`/`onDownstream` at most this often (ms), and in full when the
 * relay ends. A callback per chunk updated labelled metrics per 4 KiB read and cost ~9 % of
 * the CPU of a bulk FETCH (docs/benchmarks.md); the admin API now lags by at most this much.
 */
export const REPORT_INTERVAL_MS = 100;

/** Relay settings. */
export interface RelayOptions {
  /** Idle limit in ms, re-armed by reads from / writes to the client. */
  proxyTimeout: number;
  /** Bytes written towards the backend / towards the client, summed per {@link REPORT_INTERVAL_MS}. */
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
  let finished = false;
  // One timer per period, pushed forward lazily (touch): cheaper than resetting a
  // timer on every chunk of a bulk transfer.
  const idle = new Deadline();

  const upReport = new ByteReport(options.onUpstream);
  const downReport = new ByteReport(options.onDownstream);

  return new Promise<RelayResult>((resolve) => {
    const finish = (end: RelayEnd, detail: string) => {
      if (finished) return;
      finished = true;
      idle.disarm();
      upReport.flush();
      downReport.flush();
      options.signal?.removeEventListener("abort", onAbort);
      client.close();
      backend.close();
      resolve({ end, upstreamBytes, downstreamBytes, detail });
    };

    idle.arm(options.proxyTimeout, () => finish("timeout", "client timed out"));

    const onAbort = () => finish("aborted", String(options.signal?.reason ?? "aborted"));
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener("abort", onAbort);

    // A chunk is handed to write() without a copy when its reader never reuses the memory
    // (node:net); a Deno reader's buffer is only read again after the write resolved.
    const upHandOff = client.freshReads;
    const downHandOff = backend.freshReads;
    // Client EOF is passed on as a half-close so replies to its last commands
    // (a pipelined LOGOUT) still arrive; backend EOF ends the session, as there is
    // nothing a client could still say to a closed mailbox server.
    pump(client, backend, upHandOff, {
      read: () => {
        idle.touch();
      },
      written: (n) => {
        upstreamBytes += n;
        if (!finished) upReport.add(n, Date.now());
      },
      end: () => backend.closeWrite().then(() => {}, () => {}),
      error: (err) => finish("error", `client side: ${errorText(err)}`),
    });
    pump(backend, client, downHandOff, {
      read: () => {},
      written: (n) => {
        const now = Date.now();
        idle.touch(now);
        downstreamBytes += n;
        if (!finished) downReport.add(n, now);
      },
      end: () => finish("closed", "backend closed"),
      error: (err) => finish("error", `backend side: ${errorText(err)}`),
    });
  });
}

/** What a {@link pump} reports. */
interface PumpEvents {
  /** A chunk was read (before it is written on). */
  read(): void;
  /** `n` bytes were written on. */
  written(n: number): void;
  /** The source reached EOF. */
  end(): void;
  /** A read or write failed. */
  error(err: unknown): void;
}

/**
 * Moves chunks from `from` to `to`, one at a time: the next read starts only after the
 * write resolved (back-pressure). Written with promise callbacks rather than an async loop:
 * an idle session then holds a pending read per direction and no suspended async frames
 * (each one kept a generator, its registers and promise reactions alive: ~1 kB per session).
 */
function pump(from: Conn, to: Conn, handOff: boolean, on: PumpEvents): void {
  // A Conn that throws instead of rejecting must still end the relay, never escape as an
  // unhandled rejection of these callback chains.
  const next = (): void => {
    try {
      from.read().then(chunk, on.error);
    } catch (err) {
      on.error(err);
    }
  };
  const written = (n: number): void => {
    on.written(n);
    next();
  };
  const chunk = (data: Uint8Array | null): void => {
    if (data === null) return on.end();
    try {
      on.read();
      to.write(data, handOff).then(() => written(data.length), on.error);
    } catch (err) {
      on.error(err);
    }
  };
  next();
}

/** Sums byte counts and passes them on at most every {@link REPORT_INTERVAL_MS}. */
class ByteReport {
  #pending = 0;
  #last = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly report?: (bytes: number) => void) {}

  /** Counts `bytes`; reports now if the last report is old enough, else arms one timer. */
  add(bytes: number, now: number): void {
    if (!this.report) return;
    this.#pending += bytes;
    const since = now - this.#last;
    if (since >= REPORT_INTERVAL_MS) this.flush(now);
    else {
      this.#timer ??= setTimeout(() => {
        this.#timer = undefined;
        this.flush();
      }, REPORT_INTERVAL_MS - since);
    }
  }

  /** Reports what is pending and disarms the timer. */
  flush(now = Date.now()): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#pending === 0 || !this.report) return;
    const bytes = this.#pending;
    this.#pending = 0;
    this.#last = now;
    this.report(bytes);
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
