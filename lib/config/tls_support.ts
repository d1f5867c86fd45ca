/**
 * Which TLS settings each runtime can honour. Deno's `node:tls` runs on rustls: it
 * serves only the first certificate/key pair, speaks TLS 1.2 and 1.3 only, ignores
 * OpenSSL cipher strings, server cipher preference, `SSL_OP_NO_TICKET` and the session
 * timeout (measured on Deno 2.9.6, see docs/tls.md). Bun's `node:tls` is BoringSSL and
 * honours them. Neither keeps a session-ID cache (`ssl_session_cache`). A setting a runtime cannot honour is a config error here, never
 * silently ignored; nginx's defaults are always accepted.
 * @module
 */

import type { ServerConfig } from "./types.ts";

/** The runtime evaluating the config. */
export function currentRuntime(): "deno" | "bun" {
  return "Bun" in globalThis ? "bun" : "deno";
}

const VERSION_ORDER = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];

/** `ssl_protocols` as the min/max pair node:tls takes; null when the set has a hole. */
export function protocolRange(protocols: readonly string[]): { min: string; max: string } | null {
  const idx = protocols.map((p) => VERSION_ORDER.indexOf(p)).filter((i) => i >= 0).sort();
  if (idx.length === 0) return null;
  for (let i = 1; i < idx.length; i++) if (idx[i] !== idx[i - 1] + 1) return null;
  return { min: VERSION_ORDER[idx[0]], max: VERSION_ORDER[idx[idx.length - 1]] };
}

/** nginx's defaults, accepted on every runtime. */
const DEFAULT_CIPHERS = "HIGH:!aNULL:!MD5";
const DEFAULT_SESSION_TIMEOUT_MS = 5 * 60 * 1000;

/**
 * Why neither runtime can keep a session cache (measured on Deno 2.9.6 and Bun 1.4.4 with
 * `openssl s_client -no_ticket -sess_out/-sess_in`, docs/tls.md): a server-side cache needs
 * the TLS library to keep sessions by ID, or `node:tls`'s `newSession`/`resumeSession`
 * events to keep them ourselves (in one place for all `worker_processes` copies); neither
 * runtime emits those events, and neither TLS library resumes a session by ID.
 */
const SESSION_CACHE_WHY = {
  deno: "Deno's TLS (rustls) keeps no session cache and node:tls on Deno emits no " +
    "newSession/resumeSession events to keep one",
  bun: "Bun's TLS (BoringSSL) keeps no session cache and node:tls on Bun emits no " +
    "newSession/resumeSession events to keep one",
} as const;

/** True when the server terminates TLS for clients (implicit TLS or STARTTLS). */
export function usesClientTls(server: ServerConfig): boolean {
  return server.listen.some((l) => l.ssl) || server.starttls !== "off";
}

/** Problems with the server's client-TLS settings on `runtime`; empty when all can be honoured. */
export function clientTlsProblems(server: ServerConfig, runtime = currentRuntime()): string[] {
  if (!usesClientTls(server)) return [];
  const out: string[] = [];
  if (protocolRange(server.ssl_protocols) === null) {
    out.push(
      `ssl_protocols = [${server.ssl_protocols.map((p) => `"${p}"`).join(", ")}] has a gap: ` +
        "the TLS runtime takes a contiguous range of versions",
    );
  }
  if (server.ssl_session_cache !== "none" && server.ssl_session_cache !== "off") {
    out.push(
      `ssl_session_cache = "${server.ssl_session_cache}": ${SESSION_CACHE_WHY[runtime]}; ` +
        "resumed handshakes come from TLS session tickets, which are on by default " +
        '(ssl_session_tickets): remove the key or set it to "none"',
    );
  }
  if (runtime === "deno") {
    const why = "Deno's TLS (rustls) cannot honour it; run mailproxy under Bun or remove the key";
    const pairCount = Math.max(
      server.ssl_certificate.length,
      ...server.ssl_sni.map((s) => s.ssl_certificate.length),
    );
    if (pairCount > 1) out.push(`several ssl_certificate pairs (e.g. RSA + ECDSA): ${why}`);
    const old = server.ssl_protocols.filter((p) => p === "TLSv1" || p === "TLSv1.1");
    if (old.length > 0) {
      out.push(`ssl_protocols ${old.join(", ")}: Deno's TLS speaks TLSv1.2 and TLSv1.3 only`);
    }
    if (server.ssl_ciphers !== DEFAULT_CIPHERS) out.push(`ssl_ciphers = "${server.ssl_ciphers}": ${why}`);
    if (server.ssl_prefer_server_ciphers) out.push(`ssl_prefer_server_ciphers = true: ${why}`);
    if (!server.ssl_session_tickets) out.push(`ssl_session_tickets = false: ${why}`);
    if (server.ssl_session_timeout !== DEFAULT_SESSION_TIMEOUT_MS) {
      out.push(`ssl_session_timeout = "${server.ssl_session_timeout / 1000}s": ${why}`);
    }
  }
  return out;
}
