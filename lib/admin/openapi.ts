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
    id: { type: "string", description: "Session id; the same id appears as `session` in every log line." },
    protocol: { type: "string", enum: ["imap", "pop3", "smtp"] },
    server: { type: "integer", description: "0-based index of the [[server]] table." },
    listen: { type: "string", description: "The listen entry the client connected to." },
    client: { type: "string", description: "Client address and port." },
    user: { type: ["string", "null"], description: "Login name once known." },
    backend: { type: ["string", "null"], description: "Backend address once chosen." },
    state: { type: "string", enum: ["pre-auth", "auth", "backend-login", "relay"] },
    tls: { type: "null", description: "Client TLS details; always null until client TLS exists." },
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

const killed: Json = {
  type: "object",
  properties: { killed: { type: "array", items: { type: "string" }, description: "Ids of ended sessions." } },
};

function json(description: string, schema: Json): Json {
  return { description, content: { "application/json": { schema } } };
}

const errorResponse = (description: string) => json(description, { $ref: "#/components/schemas/Error" });

const filterParams = [
  ["user", "Login name (exact)."],
  ["backend", "Backend address `host:port` (exact)."],
  ["protocol", "imap, pop3 or smtp."],
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
      description: "Status, sessions, reload and metrics of one mailproxy process. When [admin] token is " +
        "set, every route needs `Authorization: Bearer TOKEN` (or HTTP Basic with the token as password).",
    },
    components: {
      schemas: { Error: error, Session: session },
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
          summary: "Process status: version, listeners, session counts, login rates, backend health",
          responses: { 200: json("Status", { type: "object" }) },
        },
      },
      "/metrics": {
        get: {
          summary: "Prometheus metrics (text exposition format 0.0.4)",
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
          },
        },
        delete: {
          summary: "End one session: the protocol's goodbye before login, a plain close while relaying",
          responses: { 200: json("Session ended", killed), 404: errorResponse("No such session") },
        },
      },
      "/reload": {
        post: {
          summary: "Re-read the config file (like SIGHUP); a bad config is refused and the old one kept",
          responses: {
            200: json("Applied", {
              type: "object",
              properties: {
                reloaded: { const: true },
                changes: { type: "array", items: { type: "string" } },
                warnings: { type: "array", items: { type: "string" } },
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
      "/auth-cache/flush": {
        post: {
          summary: "Forget the cached successful password verifications of static users",
          responses: {
            200: json("Flushed", { type: "object", properties: { flushed: { type: "integer" } } }),
          },
        },
      },
    },
  };
}
