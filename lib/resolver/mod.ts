/**
 * The `resolver`: the SMTP client host name (PTR + forward confirmation) over UDP.
 * @module
 */

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
export { ClientHostLookup } from "./lookup.ts";
