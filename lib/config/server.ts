/**
 * Builds one {@link ServerConfig} from its `[[server]]` table and the top-level (mail
 * level) values, then runs nginx's per-server checks: listen present, protocol known,
 * an auth source, certificates for TLS, a CA for client verification.
 * @module
 */

import type { MailProtocol } from "../types.ts";
import { defaultOf } from "./defaults.ts";
import type { KeyPath } from "./locate.ts";
import type { Reporter } from "./report.ts";
import { isServerKey, MAIL_LEVEL_KEYS } from "./schema.ts";
import { refusedSmtpCapabilities } from "./smtp_capabilities.ts";
import type { StaticAuthRead } from "./static_auth.ts";
import { describeTable, type TableRead } from "./table.ts";
import type { ListenSpec, ServerConfig } from "./types.ts";

/** Ports that select a protocol when `protocol` is not set (spec §1.4). */
const PORT_PROTOCOLS: Record<number, MailProtocol> = {
  110: "pop3",
  995: "pop3",
  143: "imap",
  993: "imap",
  25: "smtp",
  465: "smtp",
  587: "smtp",
  4190: "sieve",
};

/** nginx takes the protocol from the first listen whose port it knows. */
export function detectProtocol(listens: readonly ListenSpec[]): MailProtocol | undefined {
  for (const l of listens) {
    const protocol = l.transport === "tcp" ? PORT_PROTOCOLS[l.port] : undefined;
    if (protocol) return protocol;
  }
  return undefined;
}

/**
 * Resolves server `index`: every mail-level key comes from the server if it sets it,
 * else from the top level, else the default; values are replaced whole, never merged.
 * Returns `undefined` if this server has errors (all of them are reported).
 */
export function buildServer(
  index: number,
  own: TableRead,
  top: TableRead,
  staticAuth: StaticAuthRead,
  rep: Reporter,
): ServerConfig | undefined {
  const errorsBefore = rep.errorCount;
  const header: KeyPath = ["server", index];
  const where = describeTable("server", index);
  const origin = (name: string): KeyPath =>
    own.present.has(name) ? [...header, name] : top.present.has(name) ? [name] : header;
  const layer = (name: string) => own.present.has(name) ? own : top.present.has(name) ? top : undefined;
  // Written but invalid: already reported; follow-up checks on it would only add noise.
  const failed = (name: string) => {
    const from = layer(name);
    return from !== undefined && !from.values.has(name);
  };
  const pick = <T>(name: string): T => {
    const from = layer(name);
    return (from ? from.values.get(name) : defaultOf("server", name)) as T;
  };

  const server: Record<string, unknown> = { index, line: rep.lines.lineOf(header) };
  for (const spec of MAIL_LEVEL_KEYS) {
    if (!isServerKey(spec)) continue;
    server[spec.name] = pick(spec.name);
  }

  const listen = (own.values.get("listen") ?? []) as ListenSpec[];
  server.listen = listen;
  server.upstream = own.values.get("upstream") ?? null;
  if (listen.length === 0 && !failed("listen")) {
    rep.error(header, `no "listen" is defined for server ${where}`);
  }

  const protocol = own.values.get("protocol") as MailProtocol | undefined ?? detectProtocol(listen);
  server.protocol = protocol;
  if (!protocol && !own.present.has("protocol") && listen.length > 0) {
    rep.error(
      header,
      `unknown mail protocol for server ${where} (set protocol = "imap", "pop3", "smtp" or "sieve")`,
    );
  }

  server.auth = resolveAuth(pick("auth"), pick("auth_http") !== null || failed("auth_http"));
  function resolveAuth(explicit: string | undefined, hasAuthHttp: boolean): string | undefined {
    const hasUsers = staticAuth.declaredUsers > 0;
    if (explicit === "http" && !hasAuthHttp) {
      rep.error(origin("auth"), `no "auth_http" is defined for server ${where} (auth = "http")`);
    } else if (explicit === "static" && !hasUsers) {
      rep.error(origin("auth"), `auth = "static" but [static_auth] has no users (${where})`);
    } else if (explicit === undefined && !failed("auth") && !hasAuthHttp && !hasUsers) {
      rep.error(header, `no "auth_http" is defined for server (and no [static_auth] users) ${where}`);
    }
    return explicit ?? (hasAuthHttp ? "http" : "static");
  }
  // A server with a default upstream sends users without a backend of their own there.
  if (server.auth === "static" && protocol && server.upstream === null) {
    checkStaticBackends(protocol, staticAuth, header, where, rep);
  }

  const check: ServerCheck = { listen, pick, failed, origin, header, where, rep };
  checkTls(check);
  checkProxyProtocolAndBackendTls(check);
  if (protocol === "smtp" && !failed("smtp_capabilities")) {
    for (const e of refusedSmtpCapabilities(pick("smtp_capabilities"))) {
      rep.error(origin("smtp_capabilities"), e);
    }
  }

  return rep.errorCount === errorsBefore ? server as unknown as ServerConfig : undefined;
}

/** What the server-level checks read: one server's values, where they came from, the reporter. */
interface ServerCheck {
  listen: ListenSpec[];
  /** The effective value of a key (this server's, the mail level's or the default). */
  pick: <T>(name: string) => T;
  /** Whether the key's value was invalid (already reported). */
  failed: (name: string) => boolean;
  /** Where the key was set, for the error's location. */
  origin: (name: string) => KeyPath;
  header: KeyPath;
  where: string;
  rep: Reporter;
}

function checkStaticBackends(
  protocol: MailProtocol,
  staticAuth: StaticAuthRead,
  header: KeyPath,
  where: string,
  rep: Reporter,
): void {
  const users = staticAuth.config.users;
  const missing = users.filter((u) => !u.backend[protocol]).map((u) => `"${u.name}"`);
  if (users.length > 0 && missing.length === users.length) {
    rep.error(
      header,
      `no ${protocol} backend for any [static_auth] user ${where} (set [static_auth].backend)`,
    );
  } else if (missing.length > 0) {
    rep.warn(
      header,
      `${protocol} logins ${where} will fail for users without a ${protocol} backend: ${missing.join(", ")}`,
    );
  }
}

function checkTls(
  { listen, pick, failed, origin, header, where, rep }: ServerCheck,
): void {
  // As nginx, TLS settings are only required when something on this server uses TLS.
  const starttls = failed("starttls") ? "off" : pick("starttls");
  const mode = listen.some((l) => l.ssl) ? '"listen ... ssl"' : starttls !== "off" ? '"starttls"' : null;
  if (mode === null) return;
  const certs = pick<string[]>("ssl_certificate");
  const keys = pick<string[]>("ssl_certificate_key");
  if (!failed("ssl_certificate") && certs.length === 0) {
    rep.error(header, `no "ssl_certificate" is defined for the ${mode} directive ${where}`);
  }
  if (!failed("ssl_certificate_key") && keys.length === 0) {
    rep.error(header, `no "ssl_certificate_key" is defined for the ${mode} directive ${where}`);
  } else if (!failed("ssl_certificate_key") && !failed("ssl_certificate")) {
    for (const cert of certs.slice(keys.length)) {
      rep.error(
        origin("ssl_certificate"),
        `no "ssl_certificate_key" is defined for certificate "${cert}" ${where}`,
      );
    }
  }
  const verify = pick<string>("ssl_verify_client");
  const haveCa = pick("ssl_client_certificate") !== null || pick("ssl_trusted_certificate") !== null ||
    failed("ssl_client_certificate") || failed("ssl_trusted_certificate");
  if ((verify === "on" || verify === "optional") && !haveCa) {
    rep.error(
      origin("ssl_verify_client"),
      `no ssl_client_certificate or ssl_trusted_certificate for ssl_verify_client ${where}`,
    );
  }
}

/**
 * A `proxy_protocol` listen without `set_real_ip_from` is valid, as in nginx: the header
 * is read and its addresses go to auth_http (Proxy-Protocol-*), but the client address
 * stays the TCP peer's. That is rarely what an operator behind a load balancer wants, so
 * it is a warning. And mailproxy's own rule: a backend client certificate needs its key.
 */
function checkProxyProtocolAndBackendTls(
  { listen, pick, failed, origin, header, where, rep }: ServerCheck,
): void {
  const pp = listen.find((l) => l.proxy_protocol);
  if (pp && !failed("set_real_ip_from") && pick<string[]>("set_real_ip_from").length === 0) {
    rep.warn(
      header,
      `listen "${pp.raw}" reads PROXY protocol headers but set_real_ip_from is empty ${where}: ` +
        "the PROXY addresses go to auth_http (Proxy-Protocol-* headers) but are not trusted as the " +
        "client address (Client-IP, access rules, logs); name the load balancers in set_real_ip_from",
    );
  }
  const cert = pick<string | null>("backend_tls_certificate");
  const key = pick<string | null>("backend_tls_certificate_key");
  if (
    !failed("backend_tls_certificate") && !failed("backend_tls_certificate_key") &&
    (cert === null) !== (key === null)
  ) {
    rep.error(
      origin(cert === null ? "backend_tls_certificate_key" : "backend_tls_certificate"),
      `backend_tls_certificate and backend_tls_certificate_key go together ${where}`,
    );
  }
}
