/**
 * ManageSieve (RFC 5804): the client-side front end, its command parser, the
 * capability list and the backend login dialogue.
 * @module
 */

export { SieveFrontend } from "./frontend.ts";
export { SieveBackendLogin } from "./backend_login.ts";
export { sieveCapabilityLines, sieveMechanisms } from "./capabilities.ts";
export { responseEnd, SieveCommandParser, type SieveParseEvent } from "./parser.ts";
export { SIEVE_LINES, TEMPORARY_FAILURE } from "./lines.ts";
