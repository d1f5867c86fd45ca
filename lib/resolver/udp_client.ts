/**
 * DNS over UDP with `node:dgram` (native in Deno and Bun): one socket per query,
 * a random id, replies accepted only from a server asked and only when id and
 * question match, the query resent to the next server every `resendMs`, and one
 * overall deadline. The answer is decoded by `dns_message.ts`.
 *
 * A truncated (TC) response is a failure: the records this lookup needs fit a
 * datagram, and a retry over TCP is not worth the code.
 * @module
 */

import { createSocket, type Socket } from "node:dgram";
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { splitHostPort } from "../config/mod.ts";
import type { DnsAnswer, DnsQuery } from "./client_host.ts";
import { decodeResponse, encodeQuery, sameName } from "./dns_message.ts";

/** A DNS server to ask. */
export interface DnsServer {
  host: string;
  port: number;
}

/** Options of {@link udpQuery}. */
export interface UdpQueryOptions {
  servers: readonly DnsServer[];
  /** Overall limit for the query (resolver_timeout). */
  timeoutMs: number;
  /** Resend to the next server after this long without an answer. Default 2000. */
  resendMs?: number;
  signal?: AbortSignal;
}

const DEFAULT_RESEND_MS = 2000;
const DNS_PORT = 53;

/** Sends one query and waits for the matching answer. Never rejects. */
export function udpQuery(name: string, type: number, opts: UdpQueryOptions): Promise<DnsAnswer> {
  const id = crypto.getRandomValues(new Uint16Array(1))[0];
  const query = encodeQuery(id, name, type);
  if (query === null) return Promise.resolve({ kind: "failure", reason: `invalid name "${name}"` });
  if (opts.servers.length === 0) return Promise.resolve({ kind: "failure", reason: "no DNS server" });
  if (opts.signal?.aborted) return Promise.resolve({ kind: "failure", reason: "aborted" });

  return new Promise<DnsAnswer>((resolve) => {
    const sockets = new Map<4 | 6, Socket>();
    const asked = new Set<string>();
    let next = 0;
    let done = false;

    const finish = (answer: DnsAnswer) => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      clearInterval(resend);
      opts.signal?.removeEventListener("abort", onAbort);
      for (const socket of sockets.values()) {
        try {
          socket.close();
        } catch { /* already closed */ }
      }
      resolve(answer);
    };
    const onAbort = () => finish({ kind: "failure", reason: "aborted" });
    const deadline = setTimeout(
      () => finish({ kind: "failure", reason: `timed out after ${opts.timeoutMs} ms` }),
      opts.timeoutMs,
    );
    opts.signal?.addEventListener("abort", onAbort);

    const onMessage = (msg: Uint8Array, from: { address: string; port: number }) => {
      if (done || !asked.has(`${from.address}|${from.port}`)) return;
      const response = decodeResponse(msg);
      // Anything that is not the answer to this question is ignored (spoofing, late replies).
      if ("error" in response || response.id !== id) return;
      if (!response.question || response.question.type !== type || !sameName(response.question.name, name)) {
        return;
      }
      if (response.truncated) finish({ kind: "failure", reason: "truncated response" });
      else finish({ kind: "answer", rcode: response.rcode, records: response.answers });
    };

    const socketFor = (family: 4 | 6): Socket => {
      let socket = sockets.get(family);
      if (!socket) {
        socket = createSocket(family === 4 ? "udp4" : "udp6");
        socket.on("message", onMessage);
        socket.on("error", () => {/* a send error just waits for the next server or the deadline */});
        sockets.set(family, socket);
      }
      return socket;
    };

    const send = () => {
      if (done) return;
      const server = opts.servers[next++ % opts.servers.length];
      const family = isIP(server.host) === 6 ? 6 : 4;
      asked.add(`${server.host}|${server.port}`);
      try {
        socketFor(family).send(query, server.port, server.host);
      } catch { /* as above */ }
    };

    send();
    const resend = setInterval(send, opts.resendMs ?? DEFAULT_RESEND_MS);
  });
}

/**
 * Turns `resolver` entries (IP, `[IPv6]`, host name, each with an optional `:port`) into
 * servers; host names are looked up through the system resolver, all their addresses used.
 */
export async function resolveDnsServers(entries: readonly string[]): Promise<DnsServer[]> {
  const servers: DnsServer[] = [];
  for (const entry of entries) {
    const parts = splitHostPort(entry);
    if (!parts) continue;
    const port = parts.port === undefined ? DNS_PORT : Number(parts.port);
    if (isIP(parts.host)) {
      servers.push({ host: parts.host, port });
      continue;
    }
    try {
      for (const a of await lookup(parts.host, { all: true })) servers.push({ host: a.address, port });
    } catch { /* an unknown name adds no server */ }
  }
  return servers;
}

/** A {@link DnsQuery} over UDP to `servers`, each query limited to `timeoutMs`. */
export function udpDnsQuery(
  servers: readonly DnsServer[],
  timeoutMs: number,
  signal?: AbortSignal,
): DnsQuery {
  return (name, type) => udpQuery(name, type, { servers, timeoutMs, signal });
}
