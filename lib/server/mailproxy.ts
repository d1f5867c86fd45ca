/**
 * The running proxy: binds every listener of the config, runs a session per
 * connection, serves the admin API, and shuts down cleanly.
 * @module
 */

import { createAdminApp } from "../admin/app.ts";
import { type HttpServer, serveHttp } from "../admin/serve.ts";
import { createAuthProvider } from "../auth/mod.ts";
import type { AuthProvider } from "../auth/types.ts";
import type { Config, ListenSpec, ServerConfig } from "../config/types.ts";
import { getLogger } from "../log/mod.ts";
import { MailproxyMetrics } from "../metrics/mailproxy_metrics.ts";
import { SessionRegistry } from "../session/registry.ts";
import { runSession } from "../session/session.ts";
import { formatAddress } from "../transport/address.ts";
import { runtimeVersion } from "../transport/mod.ts";
import type { Listener, Transport } from "../transport/types.ts";
import { VERSION } from "../version.ts";

interface BoundListener {
  server: ServerConfig;
  spec: ListenSpec;
  listener: Listener;
  provider: AuthProvider;
}

/** One mailproxy process. */
export class Mailproxy {
  readonly registry = new SessionRegistry();
  readonly metrics = new MailproxyMetrics();
  readonly startedAt = Date.now();
  readonly #transport: Transport;
  #config: Config;
  #listeners: BoundListener[] = [];
  #admin: HttpServer | null = null;
  readonly #sessions = new Set<Promise<void>>();
  readonly #log = getLogger(["mailproxy", "server"]);

  constructor(config: Config, transport: Transport) {
    this.#config = config;
    this.#transport = transport;
  }

  /** Addresses actually bound (port 0 in config becomes the real port). */
  get listeners(): { server: number; protocol: string; listen: string; address: string }[] {
    return this.#listeners.map((l) => ({
      server: l.server.index,
      protocol: l.server.protocol,
      listen: l.spec.raw,
      address: formatAddress(l.listener.addr),
    }));
  }

  /** The admin API port once started, or null. */
  get adminPort(): number | null {
    return this.#admin?.port ?? null;
  }

  /** Binds everything; on any failure closes what was bound and throws one clear error. */
  async start(): Promise<void> {
    try {
      for (const server of this.#config.servers) {
        const provider = createAuthProvider(server, this.#config.static_auth, this.#transport);
        for (const spec of server.listen) {
          const listener = await this.#bind(spec);
          const bound = { server, spec, listener, provider };
          this.#listeners.push(bound);
          this.#acceptLoop(bound);
          this.#log.info("server #{n} {protocol} listening on {addr}", {
            n: server.index + 1,
            protocol: server.protocol,
            addr: formatAddress(listener.addr),
          });
        }
      }
      const admin = this.#config.admin;
      if (admin.listen) {
        const app = createAdminApp({
          registry: this.registry,
          metrics: this.metrics,
          token: admin.token,
          status: {
            version: VERSION,
            runtime: runtimeVersion(),
            startedAt: this.startedAt,
            listeners: () => this.listeners,
          },
        });
        try {
          this.#admin = await serveHttp(admin.listen.host, admin.listen.port, app.fetch);
        } catch (err) {
          throw new Error(`admin listen "${admin.listen.raw}": ${errorText(err)}`);
        }
        this.#log.info("admin API on {host}:{port}", { host: admin.listen.host, port: this.#admin.port });
      }
    } catch (err) {
      await this.stop(0);
      throw err;
    }
  }

  async #bind(spec: ListenSpec): Promise<Listener> {
    for (const option of unappliedListenOptions(spec, this.#transport.runtime)) {
      this.#log.warn('listen "{listen}": {option} cannot be applied on {runtime}; ignored', {
        listen: spec.raw,
        option,
        runtime: this.#transport.runtime,
      });
    }
    try {
      return await this.#transport.listen({
        transport: spec.transport,
        hostname: spec.host,
        port: spec.port,
        path: spec.transport === "unix" ? spec.host : undefined,
        backlog: spec.backlog,
      });
    } catch (err) {
      throw new Error(`listen "${spec.raw}": ${errorText(err)}`);
    }
  }

  async #acceptLoop(bound: BoundListener): Promise<void> {
    const deps = {
      transport: this.#transport,
      auth: bound.provider,
      metrics: this.metrics,
      registry: this.registry,
    };
    while (true) {
      const conn = await bound.listener.accept();
      if (conn === null) return;
      if (bound.spec.ssl) {
        // Implicit TLS arrives with the TLS issue; config validation refuses it until then.
        conn.close();
        continue;
      }
      const session = runSession(conn, bound.server, bound.spec, deps);
      this.#sessions.add(session);
      session.finally(() => this.#sessions.delete(session));
    }
  }

  /** Stops accepting, waits up to `drainMs` for sessions to end, then ends the rest. */
  async stop(drainMs: number): Promise<void> {
    for (const l of this.#listeners) l.listener.close();
    const providers = new Set(this.#listeners.map((l) => l.provider));
    this.#listeners = [];
    if (this.#sessions.size > 0 && drainMs > 0) {
      await Promise.race([Promise.all(this.#sessions), new Promise((r) => setTimeout(r, drainMs))]);
    }
    this.registry.killAll("shutting down");
    await Promise.all(this.#sessions);
    for (const p of providers) p.close?.();
    await this.#admin?.close();
    this.#admin = null;
  }
}

/**
 * Listen options the runtime's socket API cannot set. They are valid nginx syntax, so
 * --check accepts them, but the log says at start which ones have no effect here.
 */
export function unappliedListenOptions(spec: ListenSpec, runtime: "deno" | "bun"): string[] {
  const out: string[] = [];
  if (spec.rcvbuf !== undefined) out.push("rcvbuf");
  if (spec.sndbuf !== undefined) out.push("sndbuf");
  if (spec.so_keepalive !== undefined) out.push("so_keepalive");
  if (spec.ipv6only !== undefined) out.push("ipv6only");
  if (spec.backlog !== undefined && runtime === "deno") out.push("backlog");
  return out;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
