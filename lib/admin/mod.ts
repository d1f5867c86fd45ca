/**
 * The admin API: a Hono app (status page, sessions, reload, metrics, OpenAPI) served on
 * its own listener, and the supervisor's merged view of worker copies.
 * @module
 */
export { createAdminApp } from "./app.ts";
export type { AuthCache, ReloadOutcome } from "./app.ts";
export type { WorkerLink, WorkerReply } from "./fleet.ts";
export { serveHttp, serveHttpUnix } from "./serve.ts";
export type { HttpServer } from "./serve.ts";
