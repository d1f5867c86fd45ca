/**
 * Sockets behind one small interface (types.ts): Deno's and Bun's own for plain TCP and
 * UNIX sockets, `node:net` where a connection may become TLS; the adaptive read buffer;
 * which runtime runs the process. The transport itself is asked for once by the process
 * entry (`runtimeTransport()`) and passed in, never imported as a singleton.
 * @module
 */

export type {
  Address,
  Conn,
  ConnectOptions,
  Listener,
  ListenOptions,
  ReadSizing,
  TlsHandshake,
  Transport,
} from "./types.ts";
export { GRACEFUL_CLOSE_LIMITS, type GracefulCloseLimits } from "./graceful_close.ts";
export { BULK_READ, DEFAULT_SIZING, IDLE_READ, ReadBuffer, relaySizing } from "./read_buffer.ts";
export { addressIp, addressPort, formatAddress, formatHostPort } from "./address.ts";
export { runtimeName, runtimeTransport, runtimeVersion } from "./runtime.ts";
