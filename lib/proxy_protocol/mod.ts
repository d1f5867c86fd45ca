/**
 * The PROXY protocol (docs/spec/nginx-mail.md §2.1, §2.2, §5.1): reading a load
 * balancer's header with `set_real_ip_from` deciding whom to trust, and writing one to
 * backends.
 * @module
 */

export { acceptProxyHeader, type ProxyAcceptResult } from "./accept.ts";
export { parseProxyHeader, type ProxyAddresses, type ProxyParse } from "./parser.ts";
export { buildRealIpTrust, isTrusted, type RealIpTrust } from "./trust.ts";
export { type ProxyEndpoints, type ProxyTlsFacts, proxyV1, proxyV2 } from "./writer.ts";
