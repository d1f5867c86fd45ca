/**
 * Picks the transport for the running runtime.
 * @module
 */

import type { Transport } from "./types.ts";

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

/** `deno` or `bun`: which runtime runs this process. */
export const runtimeName: "deno" | "bun" = "Bun" in globalThis ? "bun" : "deno";

/** Version string of the runtime, for --version and /status. */
export function runtimeVersion(): string {
  const g = globalThis as { Bun?: { version: string }; Deno?: { version: { deno: string } } };
  return g.Bun ? `bun ${g.Bun.version}` : `deno ${g.Deno?.version.deno ?? "?"}`;
}

async function pick(): Promise<Transport> {
  if (runtimeName === "bun") {
    const { bunTransport } = await import("./bun.ts");
    return bunTransport;
  }
  const { denoTransport } = await import("./deno.ts");
  return denoTransport;
}

/** The transport of this runtime. */
export const transport: Transport = await pick();
