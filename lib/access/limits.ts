/**
 * Connection limits of one process: `max_connections` in all and
 * `max_connections_per_ip` per client address (0 = no limit). Counted here rather
 * than from the session registry so a refused connection never counts against
 * itself or others. The limits are read at each admission, so a config reload
 * applies to new connections at once.
 * @module
 */

/** The limits in force; 0 means unlimited. */
export interface ConnectionLimitValues {
  maxConnections: number;
  maxConnectionsPerIp: number;
}

/** Why a connection was refused. */
export type LimitRefusal = "max_connections" | "max_connections_per_ip";

/** An admitted connection: call `release` exactly once when it ends (extra calls are ignored). */
export interface Admission {
  ok: true;
  release(): void;
}

/** Counts live connections and admits or refuses new ones. */
export class ConnectionLimits {
  readonly #limits: () => ConnectionLimitValues;
  readonly #perIp = new Map<string, number>();
  #total = 0;

  /** `limits` is called at each admission (the current config's values). */
  constructor(limits: () => ConnectionLimitValues) {
    this.#limits = limits;
  }

  /** Connections admitted and not yet released. */
  get total(): number {
    return this.#total;
  }

  /** Live connections from `key` (an IP address, or `unix:`). */
  count(key: string): number {
    return this.#perIp.get(key) ?? 0;
  }

  /** Admits a connection from `key` or says which limit refuses it. */
  admit(key: string): Admission | { ok: false; reason: LimitRefusal } {
    const { maxConnections, maxConnectionsPerIp } = this.#limits();
    if (maxConnections > 0 && this.#total >= maxConnections) return { ok: false, reason: "max_connections" };
    const current = this.#perIp.get(key) ?? 0;
    // UNIX-socket clients have no address to tell them apart: only the overall limit applies.
    if (key !== "unix:" && maxConnectionsPerIp > 0 && current >= maxConnectionsPerIp) {
      return { ok: false, reason: "max_connections_per_ip" };
    }
    this.#total++;
    this.#perIp.set(key, current + 1);
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        this.#total--;
        const left = (this.#perIp.get(key) ?? 1) - 1;
        if (left > 0) this.#perIp.set(key, left);
        else this.#perIp.delete(key);
      },
    };
  }
}
