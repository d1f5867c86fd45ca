/**
 * Active health checks: for every server of every upstream with `health_check.interval`
 * > 0, connect, read the protocol's greeting ({@link GreetingCheck}) within `timeout`,
 * and report the verdict to the router. One object owns every timer; `Mailproxy` starts
 * it, replaces it on reload and stops it on shutdown.
 *
 * A server whose connections need TLS first (`backend_tls = "on"`) is checked by the
 * TCP connect alone; a PROXY protocol header, when the upstream sends one, is the
 * LOCAL/UNKNOWN form that tells the backend "a health check, no client".
 * @module
 */

import type { UpstreamConfig, UpstreamServerConfig } from "../config/mod.ts";
import { proxyV1, proxyV2 } from "../proxy_protocol/mod.ts";
import type { Conn, Transport } from "../transport/mod.ts";
import { GreetingCheck } from "./greeting_check.ts";
import type { UpstreamRouter } from "./router.ts";

/** Runs the checks of a set of upstreams until stopped. */
export class HealthChecker {
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #stopped = false;

  constructor(
    readonly router: UpstreamRouter,
    readonly transport: Transport,
    /** The server-level proxy_protocol/backend_tls that apply when an upstream sets none. */
    readonly defaults: (
      u: UpstreamConfig,
    ) => { proxyProtocol: "off" | "v1" | "v2"; backendTls: "off" | "on" | "starttls" },
  ) {}

  /** Schedules the first check of every server (spread over the interval so they do not all fire at once). */
  start(upstreams: readonly UpstreamConfig[]): void {
    for (const u of upstreams) {
      if (u.health_check.interval <= 0) continue;
      u.servers.forEach((s, i) => {
        const first = Math.floor((u.health_check.interval * i) / Math.max(1, u.servers.length));
        this.#schedule(u, s, Math.min(first, 1000));
      });
    }
  }

  /** Cancels every timer; checks in flight finish without reporting. */
  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  #schedule(u: UpstreamConfig, s: UpstreamServerConfig, delay: number): void {
    if (this.#stopped) return;
    const timer = setTimeout(async () => {
      this.#timers.delete(timer);
      const ok = await this.check(u, s);
      if (this.#stopped) return;
      await this.router.recordCheck(u.name, s.address, ok);
      this.#schedule(u, s, u.health_check.interval);
    }, delay);
    this.#timers.add(timer);
  }

  /** One check: true when the server connected and greeted within the timeout. */
  async check(u: UpstreamConfig, s: UpstreamServerConfig): Promise<boolean> {
    const defaults = this.defaults(u);
    const pp = u.proxy_protocol ?? defaults.proxyProtocol;
    const tls = u.backend_tls ?? defaults.backendTls;
    let conn: Conn | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), u.health_check.timeout);
    });
    const run = async (): Promise<boolean> => {
      conn = await this.transport.connect(s.host, s.port);
      if (timedOut) {
        conn.close();
        return false;
      }
      if (pp !== "off") {
        const none = { srcAddr: null, srcPort: 0, dstAddr: null, dstPort: 0 };
        await conn.write(pp === "v1" ? proxyV1(none) : proxyV2(none));
      }
      if (tls === "on") return true;
      const judge = new GreetingCheck(u.protocol);
      while (true) {
        const data = await conn.read();
        if (data === null) return false;
        const verdict = judge.receive(data);
        if (verdict !== "more") return verdict === "ok";
      }
    };
    let timedOut = false;
    try {
      return await Promise.race([run().catch(() => false), timeout.then((v) => (timedOut = true, v))]);
    } finally {
      clearTimeout(timer);
      (conn as Conn | null)?.close();
    }
  }
}
