/**
 * A test auth_http server speaking nginx's mail auth protocol (spec nginx-mail.md §3) on
 * 127.0.0.1 (or on a UNIX socket, `unixPath`). It records every request (headers, header order and the exact request head) and
 * answers with a scriptable reply; by default it checks passwords of a small user table and
 * points logins at the configured backends.
 *
 * Built on `node:net` rather than `Deno.serve`: the tests compare header ORDER and the raw
 * request bytes, which a `Headers` object (sorted, re-encoded) cannot show. It uses no Deno
 * APIs, so it also runs under Bun (and Node with type stripping). Run standalone:
 *
 *   deno run -A tests/lab/auth_service.ts --port 9000 --imap-backend 127.0.0.1:1143 \
 *     --pop3-backend 127.0.0.1:1110 --smtp-backend 127.0.0.1:1025 [--user name:pass ...] [--no-record]
 *
 * It prints its URL on stdout and runs until SIGINT/SIGTERM.
 * @module
 */

import { Buffer } from "node:buffer";
import { createHash, createHmac } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import process from "node:process";
import { parseArgs } from "node:util";

/** Where a protocol's logins are sent (the reply's Auth-Server / Auth-Port). */
export interface AuthBackend {
  /** IP address (nginx does not resolve names in Auth-Server). */
  host: string;
  /** TCP port. */
  port: number;
}

/** Options of {@linkcode startAuthService}. */
export interface AuthServiceOptions {
  /** Backends per Auth-Protocol. A login for a protocol without backend fails. */
  backends: { imap?: AuthBackend; pop3?: AuthBackend; smtp?: AuthBackend; sieve?: AuthBackend };
  /** Known users and plaintext passwords. Default `{ alice: "alicepass", bob: "bobpass" }`. */
  users?: Record<string, string>;
  /** Port to listen on. Default 0 (a free port). */
  port?: number;
  /** Listen on this UNIX socket instead of TCP; the URL is then `unix:PATH:/auth`. */
  unixPath?: string;
  /**
   * Add `Auth-Upstream: <protocol>` to every OK reply (mailproxy's upstreams; it wins over
   * Auth-Server/Auth-Port), for the benchmark's routing-cost target. Default false.
   */
  upstream?: boolean;
  /** Record requests in `requests`/`headerPairs`/`rawRequests`. Default true (turn off for long benchmarks). */
  record?: boolean;
}

/** Request headers as a record: names as sent, values exactly as sent (still %XX-escaped). */
export type AuthHeaders = Record<string, string>;

/** One parsed request as given to a script. */
export interface AuthRequest {
  /** Request line, e.g. `GET /auth HTTP/1.0`. */
  requestLine: string;
  /** Headers by name (as sent; the last of repeated names wins), raw values. */
  headers: AuthHeaders;
  /** Headers in the order received, as [name, value] pairs. */
  headerPairs: [string, string][];
  /** The exact request head (request line through the blank line), bytes as latin1 text. */
  raw: string;
}

/**
 * A scripted reply: a header record (sent in insertion order after `HTTP/1.0 200 OK`), a string
 * (sent verbatim as the whole response, for malformed-reply tests), or undefined to fall back to
 * the default behaviour. May be async (to delay the reply).
 */
export type AuthScript = (
  headers: AuthHeaders,
  request: AuthRequest,
) => AuthHeaders | string | undefined | Promise<AuthHeaders | string | undefined>;

/** A running auth service. */
export interface AuthService {
  /** `http://127.0.0.1:PORT/auth` (or `unix:PATH:/auth`) — the auth_http URL. */
  url: string;
  /** The listening port (0 on a UNIX socket). */
  port: number;
  /** A port where nothing listens (the `down` user's backend). */
  deadPort: number;
  /** Every request's headers in the order received (names as sent, raw values). */
  requests: AuthHeaders[];
  /** Every request's headers as [name, value] pairs in the order received. */
  headerPairs: [string, string][][];
  /** Every request head exactly as received (latin1 text), for header ORDER comparisons. */
  rawRequests: string[];
  /** Connections accepted so far (to see auth_http_keepalive reuse them). */
  readonly connections: number;
  /** Overrides replies for the next requests (until called again); `undefined` restores the default. */
  script(fn: AuthScript | undefined): void;
  /** Resolves when at least `count` requests were received; rejects after `timeoutMs`. */
  waitForRequests(count: number, timeoutMs?: number): Promise<void>;
  /** Closes the listener and all open connections. */
  stop(): Promise<void>;
}

/** Users every auth service knows besides `users`, with their test behaviour (see defaultReply). */
export const SPECIAL_USERS: Record<string, string> = {
  waituser: "waitpass",
  renamed: "renamedpass",
};

const DEFAULT_USERS: Record<string, string> = { alice: "alicepass", bob: "bobpass" };
const MAX_HEAD = 64 * 1024;

/** Decodes nginx's %XX escaping (§3.2) into a binary string (one char per byte). */
export function unescapeAuthValue(value: string): string {
  return value.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** A JS string's UTF-8 bytes as a binary string (how passwords appear on the wire). */
function utf8Binary(text: string): string {
  return Buffer.from(text, "utf8").toString("latin1");
}

/** Parses a request head (latin1 text up to and including the blank line). */
export function parseAuthRequest(raw: string): AuthRequest {
  const lines = raw.split(/\r?\n/);
  const requestLine = lines[0] ?? "";
  const headerPairs: [string, string][] = [];
  const headers: AuthHeaders = {};
  for (const line of lines.slice(1)) {
    if (line === "") continue;
    const colon = line.indexOf(":");
    const name = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "");
    headerPairs.push([name, value]);
    headers[name] = value;
  }
  return { requestLine, headers, headerPairs, raw };
}

/** State the default behaviour keeps between requests. */
interface DefaultState {
  users: Record<string, string>;
  backends: AuthServiceOptions["backends"];
  deadPort: number;
  upstream: boolean;
  /** Pending WAIT per client (`waituser`): the next request for it gets OK. */
  waiting: Set<string>;
}

function failure(message: string, protocol: string, wait = "0"): AuthHeaders {
  const reply: AuthHeaders = { "Auth-Status": message, "Auth-Wait": wait };
  if (protocol === "smtp" && wait !== "0") reply["Auth-Error-Code"] = "451 4.3.0";
  return reply;
}

/**
 * The default reply: plain/login/none check Auth-User/Auth-Pass against the user table;
 * cram-md5 verifies HMAC-MD5(password, Auth-Salt), apop MD5(Auth-Salt + password), both returning
 * `Auth-Pass: <plaintext>`; external returns OK with Auth-Pass for a known user. Special users:
 * `waituser` (WAIT + Auth-Wait 1, then OK on the next request from that client), `slowfail`
 * (Temporary failure + Auth-Wait 1), `down` (OK towards a port where nothing listens),
 * `renamed` (OK with Auth-User alice / Auth-Pass alicepass).
 */
function defaultReply(h: AuthHeaders, state: DefaultState): AuthHeaders {
  const method = (h["Auth-Method"] ?? "").toLowerCase();
  const protocol = (h["Auth-Protocol"] ?? "").toLowerCase();
  const user = unescapeAuthValue(h["Auth-User"] ?? "");
  const pass = unescapeAuthValue(h["Auth-Pass"] ?? "");
  const salt = h["Auth-Salt"] ?? "";
  const backend = state.backends[protocol as keyof DefaultState["backends"]];
  const invalid = () => failure("Invalid login or password", protocol);
  const ok = (extra: AuthHeaders = {}, port = backend?.port): AuthHeaders => ({
    "Auth-Status": "OK",
    "Auth-Server": backend?.host ?? "127.0.0.1",
    "Auth-Port": String(port),
    ...(state.upstream ? { "Auth-Upstream": protocol } : {}),
    ...extra,
  });
  if (!backend) return failure(`No backend for protocol ${protocol || "(none)"}`, protocol);

  if (user === "slowfail") return failure("Temporary failure", protocol, "1");
  if (user === "down") return ok({}, state.deadPort);

  const known = Object.hasOwn(state.users, user) ? utf8Binary(state.users[user]) : undefined;
  let verified: boolean;
  let returnPass = false;
  switch (method) {
    case "plain":
    case "login":
      verified = known !== undefined && pass === known;
      break;
    case "none":
      verified = user === "" || (known !== undefined && pass === known);
      break;
    case "cram-md5":
      verified = known !== undefined &&
        createHmac("md5", Buffer.from(known, "latin1")).update(Buffer.from(salt, "latin1")).digest("hex") ===
          pass.toLowerCase();
      returnPass = true;
      break;
    case "apop":
      verified = known !== undefined &&
        createHash("md5").update(Buffer.from(salt + known, "latin1")).digest("hex") === pass.toLowerCase();
      returnPass = true;
      break;
    case "external":
      verified = known !== undefined;
      returnPass = true;
      break;
    default:
      verified = false;
  }
  if (!verified) return invalid();

  if (user === "waituser") {
    const key = `${h["Client-IP"] ?? ""}|${protocol}`;
    if (!state.waiting.has(key)) {
      state.waiting.add(key);
      return { "Auth-Status": "WAIT", "Auth-Wait": "1" };
    }
    state.waiting.delete(key);
  }
  if (user === "renamed") {
    return ok({ "Auth-User": "alice", "Auth-Pass": utf8Binary(state.users.alice ?? "alicepass") });
  }
  return ok(returnPass && known !== undefined ? { "Auth-Pass": known } : {});
}

function renderReply(reply: AuthHeaders, keepAlive = false): string {
  let text = "HTTP/1.0 200 OK\r\n";
  for (const [name, value] of Object.entries(reply)) text += `${name}: ${value}\r\n`;
  // Ignored by nginx; lets HTTP/1.1 clients (e.g. fetch) see the end of the response.
  return text + `Content-Length: 0\r\nConnection: ${keepAlive ? "keep-alive" : "close"}\r\n\r\n`;
}

function listenUnix(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ path }, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port }, () => {
      server.off("error", reject);
      const address = server.address();
      if (address === null || typeof address === "string") reject(new Error("no TCP address"));
      else resolve(address.port);
    });
  });
}

async function reservePort(): Promise<number> {
  const probe = createServer();
  const port = await listen(probe, 0);
  await new Promise((r) => probe.close(r));
  return port;
}

/** Starts the auth service on 127.0.0.1 (a free port unless `port` is given). */
export async function startAuthService(opts: AuthServiceOptions): Promise<AuthService> {
  const record = opts.record ?? true;
  const state: DefaultState = {
    users: { ...SPECIAL_USERS, ...(opts.users ?? DEFAULT_USERS) },
    backends: opts.backends,
    deadPort: await reservePort(),
    upstream: opts.upstream ?? false,
    waiting: new Set(),
  };
  const requests: AuthHeaders[] = [];
  const headerPairs: [string, string][][] = [];
  const rawRequests: string[] = [];
  const waiters: (() => void)[] = [];
  let scriptFn: AuthScript | undefined;
  const sockets = new Set<Socket>();

  let connections = 0;
  /** Answers one request; true when the connection stays open for the next one. */
  const handle = async (socket: Socket, raw: string): Promise<boolean> => {
    const request = parseAuthRequest(raw);
    if (record) {
      requests.push(request.headers);
      headerPairs.push(request.headerPairs);
      rawRequests.push(raw);
      for (const wake of waiters.splice(0)) wake();
    }
    let reply: AuthHeaders | string | undefined;
    try {
      reply = scriptFn ? await scriptFn(request.headers, request) : undefined;
    } catch (err) {
      reply = { "Auth-Status": `script error: ${String(err).replace(/[\r\n]/g, " ")}` };
    }
    reply ??= defaultReply(request.headers, state);
    // HTTP/1.0 keep-alive, as a web server in front of an auth script would do it
    // (mailproxy's auth_http_keepalive); a raw string reply always closes.
    const keepAlive = typeof reply !== "string" && /^keep-alive$/i.test(request.headers["Connection"] ?? "");
    const text = typeof reply === "string" ? reply : renderReply(reply, keepAlive);
    if (socket.destroyed) return false;
    if (keepAlive) socket.write(Buffer.from(text, "latin1"));
    else socket.end(Buffer.from(text, "latin1"));
    return keepAlive;
  };

  const server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    if (!opts.unixPath) socket.setNoDelay(true);
    socket.setTimeout(30000, () => socket.destroy());
    socket.on("error", () => socket.destroy());
    socket.on("close", () => sockets.delete(socket));
    let head = "";
    let busy = false;
    const next = () => {
      const end = head.search(/\r?\n\r?\n/);
      if (end >= 0) {
        busy = true;
        const match = /\r?\n\r?\n/.exec(head.slice(end))!;
        const raw = head.slice(0, end + match[0].length);
        head = head.slice(raw.length);
        handle(socket, raw).then((open) => {
          busy = !open;
          if (open) next();
        });
      } else if (head.length > MAX_HEAD) {
        busy = true;
        socket.destroy();
      }
    };
    socket.on("data", (chunk: Buffer) => {
      head += chunk.toString("latin1");
      if (!busy) next();
    });
  });
  let port = 0;
  if (opts.unixPath) await listenUnix(server, opts.unixPath);
  else port = await listen(server, opts.port ?? 0);

  return {
    url: opts.unixPath ? `unix:${opts.unixPath}:/auth` : `http://127.0.0.1:${port}/auth`,
    port,
    deadPort: state.deadPort,
    requests,
    headerPairs,
    rawRequests,
    get connections() {
      return connections;
    },
    script(fn: AuthScript | undefined): void {
      scriptFn = fn;
    },
    async waitForRequests(count: number, timeoutMs = 5000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (requests.length < count) {
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new Error(`auth service: ${requests.length} of ${count} requests within ${timeoutMs} ms`);
        }
        let timer: ReturnType<typeof setTimeout> | undefined;
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          timer = setTimeout(resolve, left);
        });
        clearTimeout(timer);
      }
    },
    stop(): Promise<void> {
      return new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        for (const wake of waiters.splice(0)) wake();
        server.close(() => resolve());
      });
    },
  };
}

function parseBackend(flag: string, value: string | undefined): AuthBackend | undefined {
  if (value === undefined) return undefined;
  const m = /^(.+):(\d+)$/.exec(value);
  if (!m) throw new Error(`--${flag} wants host:port, got ${JSON.stringify(value)}`);
  return { host: m[1].replace(/^\[(.*)\]$/, "$1"), port: Number(m[2]) };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      port: { type: "string", default: "0" },
      "imap-backend": { type: "string" },
      "pop3-backend": { type: "string" },
      "smtp-backend": { type: "string" },
      user: { type: "string", multiple: true },
      "no-record": { type: "boolean", default: false },
      upstream: { type: "boolean", default: false },
    },
  });
  const users = values.user?.length
    ? Object.fromEntries(values.user.map((u) => [u.slice(0, u.indexOf(":")), u.slice(u.indexOf(":") + 1)]))
    : undefined;
  const service = await startAuthService({
    port: Number(values.port),
    backends: {
      imap: parseBackend("imap-backend", values["imap-backend"]),
      pop3: parseBackend("pop3-backend", values["pop3-backend"]),
      smtp: parseBackend("smtp-backend", values["smtp-backend"]),
    },
    users,
    record: !values["no-record"],
    upstream: values.upstream,
  });
  console.log(service.url);
  const shutdown = () => service.stop().then(() => process.exit(0));
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
}
