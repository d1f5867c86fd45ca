/**
 * The SMTP client host lookup as sessions use it, with the one piece of state it keeps:
 * the `resolver` entries turned into DNS server addresses (host names among them are
 * resolved once, as nginx does when it reads its config). `Mailproxy` owns one instance
 * and clears it on reload, so a reload re-resolves them like an nginx reload would.
 * @module
 */

import { type ClientHost, findClientHost, TEMPUNAVAIL } from "./client_host.ts";
import { type DnsServer, resolveDnsServers, udpDnsQuery } from "./udp_client.ts";

/** Finds client host names; one per process, passed to sessions. */
export class ClientHostLookup {
  /** `resolver` entries (joined) → their servers. */
  readonly #servers = new Map<string, Promise<DnsServer[]>>();

  /**
   * Finds the host name of `clientIp` with the `resolver` servers; each of the two
   * lookups is limited to `timeoutMs` (resolver_timeout). Never rejects.
   */
  async lookup(
    clientIp: string,
    resolver: readonly string[],
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<ClientHost> {
    try {
      return await findClientHost(clientIp, udpDnsQuery(await this.servers(resolver), timeoutMs, signal));
    } catch (err) {
      return {
        host: TEMPUNAVAIL,
        detail: `lookup failed: ${err instanceof Error ? err.message : String(err)}`,
      };
    }
  }

  /** The servers of a `resolver` list, resolved on first use and kept until {@link clear}. */
  servers(resolver: readonly string[]): Promise<DnsServer[]> {
    const key = resolver.join(" ");
    let servers = this.#servers.get(key);
    if (!servers) {
      servers = resolveDnsServers(resolver);
      this.#servers.set(key, servers);
    }
    return servers;
  }

  /** Forgets every resolved list (a reload: names are looked up again). */
  clear(): void {
    this.#servers.clear();
  }

  /** How many `resolver` lists are resolved now. */
  get size(): number {
    return this.#servers.size;
  }
}
