/**
 * Steps before and around the greeting: PROXY header, implicit TLS and STARTTLS upgrades.
 * @module
 */

import type { ServerConfig } from "../config/types.ts";
import { acceptProxyHeader } from "../proxy_protocol/mod.ts";
import { clientHandshake } from "../tls/mod.ts";
import { formatAddress, formatHostPort } from "../transport/address.ts";
import type { Conn } from "../transport/types.ts";
import { Deadline } from "./deadline.ts";
import type { SessionEntry } from "./registry.ts";
import { type ClientFacts, errorText, type Logger, type SessionDeps } from "./context.ts";

/**
 * Runs a step before the greeting (PROXY header, implicit TLS handshake) under its
 * own `timeout`, as nginx arms one for each. Returns null to go on, else the outcome.
 */
export async function beforeGreeting(
  client: Conn,
  server: ServerConfig,
  log: Logger,
  what: string,
  step: () => Promise<string | null>,
): Promise<string | null> {
  const deadline = new Deadline(server.timeout, () => client.close());
  deadline.start();
  try {
    const end = await step();
    if (end !== null && deadline.expired) log.info("client timed out ({what})", { what });
    return end;
  } catch (err) {
    if (deadline.expired) log.info("client timed out ({what})", { what });
    else log.info("client connection error: {error}", { error: errorText(err) });
    return deadline.expired ? "timeout" : "error";
  } finally {
    deadline.stop();
  }
}

/** Reads the PROXY header and applies realip; false when the connection must close. */
export async function readProxyHeader(
  client: Conn,
  entry: SessionEntry,
  deps: SessionDeps,
  log: Logger,
  facts: ClientFacts,
): Promise<boolean> {
  const peer = formatAddress(client.remoteAddr);
  const pp = await acceptProxyHeader(client, deps.realIp);
  if (!pp.ok) {
    if (pp.closed) log.info("{why}", { why: pp.log });
    else log.error("{why}", { why: pp.log });
    return false;
  }
  facts.proxy = pp.info;
  const real = formatAddress(client.remoteAddr);
  entry.info.client = real;
  if (real !== peer) log.info("client {client} (PROXY protocol from {peer})", { client: real, peer });
  else if (pp.info && !pp.realIp) {
    // nginx's behaviour: the header's addresses reach auth_http, the client stays the peer.
    log.info("PROXY protocol source {source} not applied: {peer} is not in set_real_ip_from", {
      source: formatHostPort(pp.info.srcAddr, pp.info.srcPort),
      peer,
    });
  }
  return true;
}

/** A client TLS handshake (implicit or STARTTLS) with metrics and nginx's certificate replies. */
export async function tlsUpgrade(
  client: Conn,
  server: ServerConfig,
  deps: SessionDeps,
  log: Logger,
  facts: ClientFacts,
): Promise<boolean> {
  const labels = { server: String(server.index), protocol: server.protocol };
  if (!deps.tls) {
    log.error("TLS requested but the server has no TLS context");
    return false;
  }
  const result = await clientHandshake(client, server, deps.tls);
  if (!result.ok) {
    if (result.handshakeFailed) deps.metrics.tlsHandshakeFailures.inc(labels);
    else deps.metrics.tlsHandshakes.inc(labels);
    log.info("{why}", { why: result.log });
    if (result.reply) await client.write(result.reply).catch(() => {});
    return false;
  }
  deps.metrics.tlsHandshakes.inc(labels);
  facts.tls = result.tls;
  log.info("TLS {protocol} {cipher}{verify}", {
    protocol: result.tls.info.protocol ?? "?",
    cipher: result.tls.info.cipher ?? "?",
    verify: result.tls.info.verify ? `, client certificate ${result.tls.info.verify}` : "",
  });
  return true;
}
