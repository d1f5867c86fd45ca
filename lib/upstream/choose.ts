/**
 * Choosing the servers a login tries, in order (sans-I/O: a pure function of the
 * upstream's servers as they are now, the pin and the sticky route). The rules:
 *
 * 1. an admin pin, if its server takes logins (not `down`, healthy);
 * 2. else the key's sticky route, on the same condition — a `drain` server keeps its
 *    users this way;
 * 3. else rendezvous hashing (`hash = "user" | "domain"`) or least connections
 *    (`hash = "none"`) over the servers that are `up` and healthy, non-backup first;
 *    backups follow, so they are reached only when every other server failed or is down.
 *
 * The first server is the choice; the rest are the failover order, cut to
 * `1 + max_reconnects`. When no server is healthy, the `up` ones are tried anyway in
 * hash order (as nginx does when every peer is marked failed): a health check may lag.
 * @module
 */

import { hrwOrder } from "./hash.ts";

/** One server as the choice sees it. */
export interface ServerView {
  address: string;
  weight: number;
  backup: boolean;
  state: "up" | "drain" | "down";
  healthy: boolean;
  /** Sessions open on it now (least connections). */
  sessions: number;
}

/** Why the first server was chosen. */
export type RouteSource = "pin" | "sticky" | "hash" | "least_conn";

/** Everything the choice depends on. */
export interface ChooseInput {
  servers: readonly ServerView[];
  /** The affinity key, or null for `hash = "none"`. */
  key: string | null;
  pinned: string | null;
  sticky: string | null;
  /** 1 + max_reconnects. */
  tries: number;
}

/** The servers to try, in order, and why the first one. */
export interface Choice {
  order: ServerView[];
  source: RouteSource;
}

function takesLogins(s: ServerView | undefined): boolean {
  return s !== undefined && s.state !== "down" && s.healthy;
}

/** Orders `servers` by the key's HRW score, or by sessions per weight without a key. */
function ranked(key: string | null, servers: readonly ServerView[]): ServerView[] {
  if (key !== null) return hrwOrder(key, servers);
  return [...servers].sort((a, b) =>
    a.sessions / a.weight - b.sessions / b.weight ||
    (a.address < b.address ? -1 : a.address > b.address ? 1 : 0)
  );
}

/** The servers a login tries, in order (may be empty: nothing can take it). */
export function chooseServers(input: ChooseInput): Choice {
  const { servers, key, tries } = input;
  const byAddress = (address: string | null) =>
    address === null ? undefined : servers.find((s) => s.address === address);
  const open = servers.filter((s) => s.state === "up" && s.healthy);
  let rest = [...ranked(key, open.filter((s) => !s.backup)), ...ranked(key, open.filter((s) => s.backup))];
  if (rest.length === 0) rest = ranked(key, servers.filter((s) => s.state === "up"));
  let first: ServerView | undefined;
  let source: RouteSource = key === null ? "least_conn" : "hash";
  const pinned = byAddress(input.pinned);
  const sticky = byAddress(input.sticky);
  if (takesLogins(pinned)) {
    first = pinned;
    source = "pin";
  } else if (takesLogins(sticky)) {
    first = sticky;
    source = "sticky";
  }
  const order = first ? [first, ...rest.filter((s) => s !== first)] : rest;
  return { order: order.slice(0, Math.max(1, tries)), source };
}
