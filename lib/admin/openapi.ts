/**
 * The OpenAPI 3.1 description of the admin API, written by hand (the API is small,
 * and hand-written text documents intent better than generated schemas). A test
 * checks that every route of the Hono app appears here.
 * @module
 */

type Json = Record<string, unknown>;

const error: Json = {
  type: "object",
  required: ["error", "message"],
  properties: {
    error: { type: "string", description: "Machine-readable code, e.g. not_found, invalid_config." },
    message: { type: "string", description: "What went wrong, for a person." },
  },
};

const session: Json = {
  type: "object",
  properties: {
    id: {
      type: "string",
      description:
        "Session id, unique over all worker processes; the same id appears as `session` in every " +
        "log line. Worker copies (worker_processes > 1) name their sessions `w<worker>-…`.",
    },
    worker: {
      type: "integer",
      description: "Worker process holding the session: 0 = the supervisor (or the only process).",
    },
    protocol: { type: "string", enum: ["imap", "pop3", "smtp", "sieve"] },
    server: { type: "integer", description: "0-based index of the [[server]] table." },
    listen: { type: "string", description: "The listen entry the client connected to." },
    client: { type: "string", description: "Client address and port." },
    user: { type: ["string", "null"], description: "Login name once known." },
    backend: { type: ["string", "null"], description: "Backend address once chosen." },
    state: { type: "string", enum: ["pre-auth", "auth", "backend-login", "relay"] },
    tls: {
      type: ["object", "null"],
      description: "The client's TLS once its handshake passed (implicit TLS or STARTTLS); null in clear.",
      properties: {
        protocol: { type: ["string", "null"], description: "TLS version, e.g. TLSv1.3." },
        cipher: { type: ["string", "null"] },
        verify: {
          type: ["string", "null"],
          description: "Client certificate check (SUCCESS, NONE, FAILED:…); null when not asked for.",
        },
      },
    },
    started: { type: "string", format: "date-time" },
    duration_seconds: { type: "integer" },
    bytes: {
      type: "object",
      properties: {
        upstream: { type: "integer", description: "Bytes relayed client → backend." },
        downstream: { type: "integer", description: "Bytes relayed backend → client." },
      },
    },
  },
};

const unreachable: Json = {
  type: "array",
  items: { type: "integer" },
  description: "Present when some worker processes did not answer within the timeout (down or restarting); " +
    "their indexes. Nothing was done there.",
};

const upstreamServer: Json = {
  type: "object",
  properties: {
    address: { type: "string", description: "host:port" },
    state: { type: "string", enum: ["up", "drain", "down"] },
    weight: { type: "integer" },
    backup: { type: "boolean" },
    healthy: { type: "boolean", description: "Health checks and login connects say it works." },
    sessions: { type: "integer", description: "Sessions relayed to it now." },
    users: { type: "integer", description: "Users (or domains) with a live sticky route to it." },
  },
};

const upstream: Json = {
  type: "object",
  properties: {
    name: { type: "string" },
    protocol: { type: "string", enum: ["imap", "pop3", "smtp"] },
    hash: { type: "string", enum: ["user", "domain", "none"] },
    servers: { type: "array", items: { $ref: "#/components/schemas/UpstreamServer" } },
  },
};

const route: Json = {
  type: "object",
  properties: {
    upstream: { type: "string" },
    server: { type: ["string", "null"] },
    source: { type: "string", enum: ["pin", "sticky", "hash", "least_conn"] },
  },
};

const upstreamServerParams = [
  { name: "name", in: "path", required: true, schema: { type: "string" }, description: "Upstream name." },
  {
    name: "address",
    in: "path",
    required: true,
    schema: { type: "string" },
    description: "The server as host:port, plain or URL-encoded.",
  },
];

const pinBody: Json = {
  type: "object",
  required: ["server"],
  properties: {
    server: { type: "string", description: "host:port of a server of an upstream." },
    upstream: { type: "string", description: "Needed only when several upstreams have that server." },
  },
};

const pinAnswer: Json = {
  type: "object",
  properties: {
    user: { type: "string" },
    upstream: { type: "string" },
    server: { type: "string" },
    source: { const: "pin" },
    kicked: { type: "integer", description: "Sessions ended on other servers." },
    unreachable_workers: unreachable,
  },
};

const killed: Json = {
  type: "object",
  properties: {
    killed: { type: "array", items: { type: "string" }, description: "Ids of ended sessions." },
    unreachable_workers: unreachable,
  },
};

const worker: Json = {
  type: "object",
  properties: {
    worker: { type: "integer", description: "0 = the supervisor (serves this API), 1… = its copies." },
    pid: { type: ["integer", "null"], description: "Null while the worker is being restarted." },
    up: { type: "boolean", description: "It answered the supervisor within the timeout (1 s)." },
    restarts: { type: "integer", description: "Times the supervisor restarted it." },
    sessions: { type: ["integer", "null"], description: "Its live sessions; null when down." },
    uptime_seconds: { type: ["integer", "null"] },
  },
};

function json(description: string, schema: Json): Json {
  return { description, content: { "application/json": { schema } } };
}

const errorResponse = (description: string) => json(description, { $ref: "#/components/schemas/Error" });

const filterParams = [
  ["user", "Login name (exact)."],
  ["backend", "Backend address `host:port` (exact)."],
  ["protocol", "imap, pop3, smtp or sieve."],
  ["client", "Client address `ip:port` (exact)."],
].map(([name, description]) => ({
  name,
  in: "query",
  required: false,
  schema: { type: "string" },
  description,
}));

/** The document served at `/openapi.json`. */
export function openApiDocument(version: string): Json {
  return {
    openapi: "3.1.0",
    info: {
      title: "mailproxy admin API",
      version,
      description: "Status, sessions, reload and metrics of mailproxy. With worker_processes > 1 the " +
        "supervisor's API covers every worker process: counts and metrics are summed, sessions of all " +
        "workers are listed, and kicks, reloads and flushes reach the worker concerned; a worker that does " +
        "not answer within 1 s is reported down. When [admin] token is set, every route needs " +
        "`Authorization: Bearer TOKEN` (or HTTP Basic with the token as password).",
    },
    components: {
      schemas: {
        Error: error,
        Session: session,
        Worker: worker,
        Upstream: upstream,
        UpstreamServer: upstreamServer,
        Route: route,
      },
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer" },
        basic: { type: "http", scheme: "basic" },
      },
    },
    security: [{ bearer: [] }, { basic: [] }],
    paths: {
      "/": {
        get: {
          summary: "Status page (HTML, no JavaScript, refreshes itself)",
          responses: { 200: { description: "HTML page", content: { "text/html": {} } } },
        },
      },
      "/healthz": {
        get: {
          summary: "Liveness",
          responses: { 200: { description: "`ok`", content: { "text/plain": {} } } },
        },
      },
      "/status": {
        get: {
          summary: "Status: version, listeners, session counts, login rates, backend health, summed over " +
            "the worker processes, and one entry per worker process",
          responses: {
            200: json("Status", {
              type: "object",
              properties: { workers: { type: "array", items: { $ref: "#/components/schemas/Worker" } } },
            }),
          },
        },
      },
      "/metrics": {
        get: {
          summary: "Prometheus metrics (text exposition format 0.0.4), each series summed over the worker " +
            "processes, plus mailproxy_worker_up and mailproxy_worker_restarts_total per worker",
          responses: { 200: { description: "Metrics", content: { "text/plain": {} } } },
        },
      },
      "/openapi.json": {
        get: { summary: "This document", responses: { 200: json("OpenAPI 3.1", { type: "object" }) } },
      },
      "/sessions": {
        get: {
          summary: "Live sessions, optionally filtered",
          parameters: filterParams,
          responses: {
            200: json("Sessions", {
              type: "object",
              properties: { sessions: { type: "array", items: { $ref: "#/components/schemas/Session" } } },
            }),
          },
        },
        delete: {
          summary: "End every session matching the filter (e.g. kick a user); a filter is required",
          parameters: filterParams,
          responses: { 200: json("Sessions ended", killed), 400: errorResponse("No filter given") },
        },
      },
      "/sessions/{id}": {
        parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
        get: {
          summary: "One session",
          responses: {
            200: json("The session", { $ref: "#/components/schemas/Session" }),
            404: errorResponse("No such session"),
            503: errorResponse("The worker process holding it did not answer (worker_unavailable)"),
          },
        },
        delete: {
          summary: "End one session: the protocol's goodbye before login, a plain close while relaying",
          responses: {
            200: json("Session ended", killed),
            404: errorResponse("No such session"),
            503: errorResponse("The worker process holding it did not answer (worker_unavailable)"),
          },
        },
      },
      "/reload": {
        post: {
          summary: "Re-read the config file (like SIGHUP); a bad config is refused and the old one kept. " +
            "A config the supervisor applied is then reloaded by every worker process",
          responses: {
            200: json("Applied", {
              type: "object",
              properties: {
                reloaded: { const: true },
                changes: { type: "array", items: { type: "string" } },
                warnings: { type: "array", items: { type: "string" } },
                workers: {
                  type: "array",
                  description: "With worker_processes > 1: the outcome in each worker copy.",
                  items: {
                    type: "object",
                    properties: {
                      worker: { type: "integer" },
                      reloaded: { type: "boolean" },
                      errors: { type: "array", items: { type: "string" } },
                    },
                  },
                },
              },
            }),
            409: errorResponse("Shutting down"),
            422: json("Refused; the running config is unchanged", {
              allOf: [
                { $ref: "#/components/schemas/Error" },
                { type: "object", properties: { errors: { type: "array", items: { type: "string" } } } },
              ],
            }),
          },
        },
      },
      "/upstreams": {
        get: {
          summary: "Backend upstreams ([[upstream]]) and their servers: state (up, drain, down), health, " +
            "sessions and users (live sticky routes), summed over the worker processes",
          responses: {
            200: json("Upstreams", {
              type: "object",
              properties: { upstreams: { type: "array", items: { $ref: "#/components/schemas/Upstream" } } },
            }),
          },
        },
      },
      "/upstreams/{name}/servers/{address}": {
        parameters: upstreamServerParams,
        post: {
          summary: "Change a server's state and/or weight at runtime (in every worker process; kept across " +
            "reloads, lost on restart). drain = keeps its users, takes no new ones; down = takes nobody",
          requestBody: {
            content: {
              "application/json": {
                schema: {
                  type: "object",
                  properties: {
                    state: { type: "string", enum: ["up", "drain", "down"] },
                    weight: { type: "integer", minimum: 1, maximum: 1000 },
                  },
                },
              },
            },
          },
          responses: {
            200: json("The server now", {
              type: "object",
              properties: {
                upstream: { type: "string" },
                server: { $ref: "#/components/schemas/UpstreamServer" },
                unreachable_workers: unreachable,
              },
            }),
            400: errorResponse("Neither state nor weight, or a bad value"),
            404: errorResponse("No such upstream or server"),
          },
        },
      },
      "/upstreams/{name}/servers/{address}/flush": {
        parameters: upstreamServerParams,
        post: {
          summary:
            "Forget the server's sticky routes and end its sessions in paced batches (50 every 200 ms), " +
            "so its users log in again on other servers (doveadm director flush)",
          responses: {
            200: json("Flush started", {
              type: "object",
              properties: {
                upstream: { type: "string" },
                server: { type: "string" },
                routes: { type: "integer", description: "Sticky routes forgotten." },
                sessions: { type: "integer", description: "Sessions being ended." },
                unreachable_workers: unreachable,
              },
            }),
            404: errorResponse("No such upstream or server"),
          },
        },
      },
      "/routes/{user}": {
        parameters: [
          {
            name: "user",
            in: "path",
            required: true,
            schema: { type: "string" },
            description: "Login name the backend sees.",
          },
          {
            name: "upstream",
            in: "query",
            required: false,
            schema: { type: "string" },
            description: "Only this upstream.",
          },
        ],
        get: {
          summary:
            "Where the user's next login goes in each upstream, and why (pin, sticky, hash, least_conn); " +
            "the first upstream's answer is also at the top level. Changes nothing",
          responses: {
            200: json("Route", {
              type: "object",
              properties: {
                user: { type: "string" },
                upstream: { type: "string" },
                server: {
                  type: ["string", "null"],
                  description: "null when no server can take the user now.",
                },
                source: { type: "string", enum: ["pin", "sticky", "hash", "least_conn"] },
                routes: { type: "array", items: { $ref: "#/components/schemas/Route" } },
              },
            }),
            404: errorResponse("No upstreams, or no such upstream"),
          },
        },
        put: {
          summary:
            "Pin the user to a server and end its sessions on other servers of that upstream, so they " +
            "log in again there (doveadm director move)",
          requestBody: { content: { "application/json": { schema: pinBody } } },
          responses: {
            200: json("Pinned", pinAnswer),
            400: errorResponse("No server given"),
            404: errorResponse("No upstream has that server"),
            409: errorResponse("Several upstreams have that server: name one"),
          },
        },
        post: {
          summary: "The same as PUT (the form worker processes are sent)",
          requestBody: { content: { "application/json": { schema: pinBody } } },
          responses: {
            200: json("Pinned", pinAnswer),
            400: errorResponse("No server given"),
            404: errorResponse("No upstream has that server"),
          },
        },
        delete: {
          summary:
            "Forget the user's pins and sticky routes (doveadm director remove): the next login is hashed",
          responses: {
            200: json("Removed", {
              type: "object",
              properties: {
                user: { type: "string" },
                pins_removed: { type: "integer" },
                unreachable_workers: unreachable,
              },
            }),
            404: errorResponse("No upstreams"),
          },
        },
      },
      "/limits": {
        get: {
          summary: "The [login_limits] counters and blocks (per client network and per user; counts only)",
          parameters: [
            {
              name: "ip",
              in: "query",
              required: false,
              schema: { type: "string" },
              description: "Only the network of this address (IPv4 /32, IPv6 /64).",
            },
            {
              name: "user",
              in: "query",
              required: false,
              schema: { type: "string" },
              description: "Only this user.",
            },
          ],
          responses: {
            200: json("Counters", {
              type: "object",
              properties: {
                entries: {
                  type: "array",
                  items: {
                    type: "object",
                    properties: {
                      kind: { type: "string", enum: ["ip", "user"] },
                      key: { type: "string", description: "The network (a.b.c.d or x:x:x:x::/64) or user." },
                      failures: {
                        type: "integer",
                        description: "Failures (distinct wrong passwords for a user) in the window.",
                      },
                      blocked_until: { type: ["string", "null"], format: "date-time" },
                      worker: {
                        type: "integer",
                        description: "The worker copy that counted it (worker_processes > 1).",
                      },
                    },
                  },
                },
                unreachable_workers: unreachable,
              },
            }),
          },
        },
      },
      "/limits/ip/{prefix}": {
        parameters: [{
          name: "prefix",
          in: "path",
          required: true,
          schema: { type: "string" },
          description: "An address or ADDRESS/LEN (its network is lifted).",
        }],
        delete: {
          summary: "Lift the block and counts of a client network",
          responses: {
            200: json("Lifted", {
              type: "object",
              properties: {
                kind: { type: "string" },
                key: { type: "string" },
                lifted: { type: "boolean" },
                unreachable_workers: unreachable,
              },
            }),
            404: errorResponse("No counter for that network"),
          },
        },
      },
      "/limits/user/{name}": {
        parameters: [{ name: "name", in: "path", required: true, schema: { type: "string" } }],
        delete: {
          summary: "Lift the block and counts of a user (the networks it logged in from stay known)",
          responses: {
            200: json("Lifted", {
              type: "object",
              properties: {
                kind: { type: "string" },
                key: { type: "string" },
                lifted: { type: "boolean" },
                unreachable_workers: unreachable,
              },
            }),
            404: errorResponse("No counter for that user"),
          },
        },
      },
      "/auth-cache/flush": {
        parameters: [{
          name: "user",
          in: "query",
          required: false,
          schema: { type: "string" },
          description: "Only this user's [auth_cache] entries (the static users' verifications stay).",
        }],
        post: {
          summary: "Forget the cached auth_http answers ([auth_cache]) and the static users' successful " +
            "password verifications (in every worker process)",
          responses: {
            200: json("Flushed", {
              type: "object",
              properties: {
                flushed: { type: "integer", description: "Entries forgotten, summed over the workers." },
                unreachable_workers: unreachable,
              },
            }),
          },
        },
      },
    },
  };
}
