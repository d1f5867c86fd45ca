/**
 * The protocols mailproxy speaks: one {@link ProtocolRecord} each (front end, fixed
 * lines, backend preamble), found by name with {@link protocolRecord}.
 * @module
 */

export type {
  BackendLogin,
  BackendStep,
  Frontend,
  FrontendContext,
  FrontendStep,
  PreGreeting,
} from "./types.ts";
export type { ProtocolLines, ProtocolRecord } from "./record.ts";
export type {
  BackendPreamble,
  ClientEndpoints,
  PreambleOptions,
  PreambleStep,
} from "./common/backend_preamble.ts";
export { protocolRecord } from "./records.ts";
