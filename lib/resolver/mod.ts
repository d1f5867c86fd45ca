/**
 * The `resolver`: the SMTP client host name (PTR + forward confirmation) over UDP.
 * @module
 */

import { type ClientHost, findClientHost, TEMPUNAVAIL } from "./client_host.ts";
import { type DnsServer, resolveDnsServers, udpDnsQuery } from "./udp_client.ts";

export {
  type ClientHost,
  type DnsAnswer,
  type DnsQuery,
  findClientHost,
  TEMPUNAVAIL,
  UNAVAILABLE,
} from "./client_host.ts";
export { type DnsRecord, DnsType, Rcode } from "./dns_message.ts";
export { type DnsServer, resolveDnsServers, udpDnsQuery, udpQuery } from "./udp_client.ts";

/** `resolver` entries → servers, looked up once per process like nginx does at startup. */
const serverCache = new Map<string, Promise<DnsServer[]>>();

/**
 * Finds the host name of `clientIp` with the `resolver` servers; each of the two
 * lookups is limited to `timeoutMs` (resolver_timeout). Never rejects.
 */
export async function lookupClientHost(
  clientIp: string,
  resolver: readonly string[],
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ClientHost> {
  const key = resolver.join(" ");
  let servers = serverCache.get(key);
  if (!servers) {
    servers = resolveDnsServers(resolver);
    serverCache.set(key, servers);
  }
  try {
    return await findClientHost(clientIp, udpDnsQuery(await servers, timeoutMs, signal));
  } catch (err) {
    return {
      host: TEMPUNAVAIL,
      detail: `lookup failed: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}
