/**
 * The `accept` phase's steps and the client TLS upgrade: the PROXY header, implicit TLS
 * and STARTTLS handshakes (spec §2 steps 2–3, §4.4).
 * @module
 */

import { acceptProxyHeader } from "../proxy_protocol/mod.ts";
import { clientHandshake } from "../tls/mod.ts";
import { formatAddress, formatHostPort } from "../transport/mod.ts";
import { errorText } from "./context.ts";
import type { SessionScope } from "./scope.ts";

/**
 * Runs a step before the greeting (PROXY header, implicit TLS handshake) under its
 * own `timeout`, as nginx arms one for each. Returns null to go on, else the outcome.
 */
export async function beforeGreeting(
  s: SessionScope,
  what: string,
  step: () => Promise<string | null>,
): Promise<string | null> {
  const client = s.client;
  s.deadline.arm(s.server.timeout, () => client.close());
  try {
    const end = await step();
    if (end !== null && s.deadline.expired) s.log.info("client timed out ({what})", { what });
    return end;
  } catch (err) {
    if (s.deadline.expired) s.log.info("client timed out ({what})", { what });
    else s.log.info("client connection error: {error}", { error: errorText(err) });
    return s.deadline.expired ? "timeout" : "error";
  } finally {
    s.deadline.disarm();
  }
}

/** Reads the PROXY header and applies realip; false when the connection must close. */
export async function readProxyHeader(s: SessionScope): Promise<boolean> {
  const { client, log } = s;
  const peer = formatAddress(client.remoteAddr);
  const pp = await acceptProxyHeader(client, s.deps.realIp);
  if (!pp.ok) {
    if (pp.closed) log.info("{why}", { why: pp.log });
    else log.error("{why}", { why: pp.log });
    return false;
  }
  s.facts.proxy = pp.info;
  const real = formatAddress(client.remoteAddr);
  s.entry.info.client = real;
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

/** A client TLS handshake (implicit or STARTTLS) with metrics and the protocol's certificate lines. */
export async function tlsUpgrade(s: SessionScope): Promise<boolean> {
  const { client, server, deps, log } = s;
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
    if (result.certificate) {
      const { certError, certMissing } = s.protocol.lines;
      const line = result.certificate === "error" ? certError : certMissing;
      await client.write(new TextEncoder().encode(line)).catch(() => {});
    }
    return false;
  }
  deps.metrics.tlsHandshakes.inc(labels);
  s.facts.tls = result.tls;
  const info = result.tls.info;
  s.entry.info.tls = {
    protocol: info.protocol ?? null,
    cipher: info.cipher ?? null,
    verify: info.verify ?? null,
  };
  log.info("TLS {protocol} {cipher}{verify}", {
    protocol: info.protocol ?? "?",
    cipher: info.cipher ?? "?",
    verify: info.verify ? `, client certificate ${info.verify}` : "",
  });
  return true;
}
