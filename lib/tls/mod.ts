/**
 * TLS for the session driver: what a server's listeners need (built from the config
 * at start and on every reload, so renewed certificate files apply to new sessions),
 * and the client handshake with nginx's client-certificate rules
 * (docs/spec/nginx-mail.md §4.4).
 * @module
 */

export type { BackendTlsContext, BackendTlsMode } from "./backend.ts";
export {
  listenNeedsTls,
  prepareServerSecurity,
  prepareTls,
  type ServerSecurity,
  type ServerTls,
} from "./server_tls.ts";
export { clientHandshake, type ClientHandshakeResult, type ClientTls } from "./client_handshake.ts";
