/**
 * The running process: `Mailproxy` (listeners, accept loops, reload, drain, and the state
 * that outlives a session) and the worker copies of `worker_processes`.
 * @module
 */
export { Mailproxy } from "./mailproxy.ts";
export { ownWorkerAdminSocket, planWorkers, workerIndex } from "./workers.ts";
