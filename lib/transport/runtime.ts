/**
 * Which runtime runs this process, and its transport. Nothing here is picked at import:
 * the process entry (lib/cli/main.ts) asks for the transport once and passes it to
 * `Mailproxy`, which hands it to everything that opens sockets.
 * @module
 */

import type { Transport } from "./types.ts";

/** `deno` or `bun`: which runtime runs this process. */
export const runtimeName: "deno" | "bun" = "Bun" in globalThis ? "bun" : "deno";

/** Version string of the runtime, for --version and /status. */
export function runtimeVersion(): string {
  const g = globalThis as { Bun?: { version: string }; Deno?: { version: { deno: string } } };
  return g.Bun ? `bun ${g.Bun.version}` : `deno ${g.Deno?.version.deno ?? "?"}`;
}

/**
 * The transport of this runtime. Loaded on demand so that Deno never loads the Bun
 * module and the other way round.
 */
export async function runtimeTransport(): Promise<Transport> {
  if (runtimeName === "bun") {
    const { bunTransport } = await import("./bun.ts");
    return bunTransport;
  }
  const { denoTransport } = await import("./deno.ts");
  return denoTransport;
}
