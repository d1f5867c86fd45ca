/**
 * The loopback lab: real Dovecot and nginx (mail) instances and a test auth_http service on
 * 127.0.0.1, started and stopped by the integration tests, the demo and the benchmarks.
 * @module
 */

export * from "./ports.ts";
export * from "./dovecot.ts";
export * from "./nginx.ts";
export * from "./auth_service.ts";
export * from "./postfix.ts";
export * from "./dns_server.ts";
