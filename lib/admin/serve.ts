/**
 * Serves a fetch handler on the runtime's own HTTP server (Deno.serve / Bun.serve), on a TCP
 * address or on a UNIX socket.
 * @module
 */

/** A running HTTP server. */
export interface HttpServer {
  port: number;
  close(): Promise<void>;
}

type Handler = (request: Request) => Response | Promise<Response>;

interface BunLike {
  serve(
    options: { hostname: string; port: number; fetch: Handler } | { unix: string; fetch: Handler },
  ): { port: number; stop(force?: boolean): void };
}

/** Where to serve: a TCP address, or a UNIX socket path (which must not exist yet). */
type Where = { hostname: string; port: number } | { path: string };

/** Starts serving `handler` on hostname:port. */
export function serveHttp(hostname: string, port: number, handler: Handler): Promise<HttpServer> {
  return serve({ hostname, port }, handler);
}

/** Starts serving `handler` on the UNIX socket `path` (which must not exist yet); port is 0. */
export function serveHttpUnix(path: string, handler: Handler): Promise<HttpServer> {
  return serve({ path }, handler);
}

function serve(where: Where, handler: Handler): Promise<HttpServer> {
  const bun = (globalThis as { Bun?: BunLike }).Bun;
  if (bun) {
    const server = bun.serve(
      "path" in where ? { unix: where.path, fetch: handler } : { ...where, fetch: handler },
    );
    return Promise.resolve({
      port: "path" in where ? 0 : server.port,
      close: () => {
        server.stop(true);
        return Promise.resolve();
      },
    });
  }
  return new Promise((resolve, reject) => {
    try {
      const server = Deno.serve({
        ...where,
        onListen: (addr) =>
          resolve({
            port: "path" in where ? 0 : (addr as Deno.NetAddr).port,
            close: () => server.shutdown(),
          }),
      }, handler);
    } catch (err) {
      reject(err);
    }
  });
}
