/**
 * The byte relay between client and backend after login: back-pressure, half-close,
 * proxy_timeout.
 * @module
 */
export { relay } from "./relay.ts";
