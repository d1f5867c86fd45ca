/**
 * `[login_limits]`: failed logins counted per client network (IPv4 /32, IPv6 /64) and
 * per user, a growing delay before each failure reply, and a temporary block after N
 * failures in a window. Sans-I/O: every call takes the time (`now`, ms) and returns a
 * verdict; the session decides what to write and how long to sleep.
 *
 * Per-user counting counts *distinct* wrong passwords (a phone retrying one stale
 * password is not an attack), so the password is needed — only as an HMAC under a
 * per-process random key, truncated; the password itself is never kept. The user's
 * block does not apply to `exempt` networks nor to a network that logged in as that
 * user within `known_ip` (Mailu #2880: an attacker must not lock the owner out).
 * @module
 */

import { createHmac, randomBytes } from "node:crypto";
import { type AccessRule, matchAccess, parseAccessRule } from "../access/mod.ts";
import { ipBytes } from "../util/ip.ts";

/** One counter's rule: `failures` within `window` (ms) block for `block` (ms). */
export interface LimitRule {
  failures: number;
  window: number;
  block: number;
}

/** The `[login_limits]` table, times in ms. */
export interface LoginLimitsConfig {
  /** Per client network; null = not counted. */
  ip: LimitRule | null;
  /** Per user, distinct wrong passwords; null = not counted. */
  user: LimitRule | null;
  /** Delay before the 1st, 2nd, … failure reply of a network (the last repeats); [] = none. */
  delay: readonly number[];
  /** Networks (addresses or CIDRs) never blocked nor delayed. */
  exempt: readonly string[];
  /** How long a good login from a network lets it past that user's block. */
  known_ip: number;
}

/** Whether a login may go to the auth service. */
export type LimitVerdict =
  | { blocked: false }
  | { blocked: true; by: "ip" | "user"; key: string; until: number };

/** One counter as the admin API shows it (no password material: only counts). */
export interface LimitEntry {
  kind: "ip" | "user";
  key: string;
  failures: number;
  blockedUntil: number | null;
}

interface IpState {
  /** Failure times within the window, oldest first. */
  times: number[];
  blockedUntil: number;
}

interface UserState {
  /** Keyed hash of each distinct wrong password → when it was last tried. */
  wrong: Map<string, number>;
  blockedUntil: number;
  /** Network → time of its last good login as this user. */
  known: Map<string, number>;
}

/** Maps beyond this size are swept of expired entries on the next failure. */
const SWEEP_AT = 10_000;

/** The counters of one process (the in-memory store); the config is read at each call. */
export class LoginLimits {
  readonly #config: () => LoginLimitsConfig;
  readonly #key: Uint8Array;
  readonly #ips = new Map<string, IpState>();
  readonly #users = new Map<string, UserState>();
  #exemptSource: readonly string[] | null = null;
  #exemptRules: AccessRule[] = [];

  /** `config` is called at each check (a reload applies at once); `key` keys the password hashes. */
  constructor(config: () => LoginLimitsConfig, key: Uint8Array = randomBytes(32)) {
    this.#config = config;
    this.#key = key;
  }

  /** May `user` from `ip` try to log in now? */
  check(ip: string, user: string, now: number): LimitVerdict {
    const cfg = this.#config();
    if (this.#exempt(ip, cfg)) return { blocked: false };
    const net = networkOf(ip);
    const ipState = this.#ips.get(net);
    if (cfg.ip && ipState && ipState.blockedUntil > now) {
      return { blocked: true, by: "ip", key: net, until: ipState.blockedUntil };
    }
    const userState = this.#users.get(user);
    if (cfg.user && userState && userState.blockedUntil > now && !this.#knownIp(userState, net, cfg, now)) {
      return { blocked: true, by: "user", key: user, until: userState.blockedUntil };
    }
    return { blocked: false };
  }

  /**
   * Records a refused login; returns the delay (ms) before its failure reply. `pass` is
   * only hashed (keyed), to tell distinct wrong passwords apart.
   */
  failure(ip: string, user: string, pass: string, now: number): number {
    const cfg = this.#config();
    if (this.#exempt(ip, cfg)) return 0;
    if (this.#ips.size > SWEEP_AT || this.#users.size > SWEEP_AT) this.sweep(now);
    const net = networkOf(ip);
    let count = 0;
    if (cfg.ip) {
      const st = this.#ips.get(net) ?? { times: [], blockedUntil: 0 };
      st.times = st.times.filter((t) => t > now - cfg.ip!.window);
      st.times.push(now);
      if (st.times.length >= cfg.ip.failures) st.blockedUntil = now + cfg.ip.block;
      this.#ips.set(net, st);
      count = st.times.length;
    }
    if (cfg.user) {
      const st = this.#userState(user);
      for (const [h, t] of st.wrong) if (t <= now - cfg.user.window) st.wrong.delete(h);
      st.wrong.set(this.#hash(user, pass), now);
      if (st.wrong.size >= cfg.user.failures) st.blockedUntil = now + cfg.user.block;
      if (!cfg.ip) count = st.wrong.size;
    }
    if (cfg.delay.length === 0 || count === 0) return 0;
    return cfg.delay[Math.min(count, cfg.delay.length) - 1];
  }

  /** A good login: the network becomes known for this user. */
  success(ip: string, user: string, now: number): void {
    const cfg = this.#config();
    if (!cfg.user || cfg.known_ip <= 0) return;
    this.#userState(user).known.set(networkOf(ip), now);
  }

  /** The counters, optionally only those of one network (any address in it) or user. */
  list(filter: { ip?: string; user?: string }, now: number): LimitEntry[] {
    const out: LimitEntry[] = [];
    const cfg = this.#config();
    const net = filter.ip !== undefined ? networkOf(filter.ip) : undefined;
    if (filter.user === undefined) {
      for (const [key, st] of this.#ips) {
        if (net !== undefined && key !== net) continue;
        const failures = cfg.ip ? st.times.filter((t) => t > now - cfg.ip!.window).length : 0;
        const blockedUntil = st.blockedUntil > now ? st.blockedUntil : null;
        if (failures > 0 || blockedUntil !== null) out.push({ kind: "ip", key, failures, blockedUntil });
      }
    }
    if (filter.ip === undefined) {
      for (const [key, st] of this.#users) {
        if (filter.user !== undefined && key !== filter.user) continue;
        let failures = 0;
        if (cfg.user) { for (const t of st.wrong.values()) if (t > now - cfg.user.window) failures++; }
        const blockedUntil = st.blockedUntil > now ? st.blockedUntil : null;
        if (failures > 0 || blockedUntil !== null) out.push({ kind: "user", key, failures, blockedUntil });
      }
    }
    return out;
  }

  /** Lifts the block and counts of the network of `prefix` (an address, or `addr/len`); false if none. */
  liftIp(prefix: string): boolean {
    const net = networkOf(prefix.replace(/\/\d+$/, ""));
    return this.#ips.delete(net);
  }

  /** Lifts the block and counts of `user` (known networks stay); false if none. */
  liftUser(user: string): boolean {
    const st = this.#users.get(user);
    if (!st || (st.wrong.size === 0 && st.blockedUntil === 0)) return false;
    st.wrong.clear();
    st.blockedUntil = 0;
    return true;
  }

  /** Drops entries whose windows, blocks and known networks have all expired. */
  sweep(now: number): void {
    const cfg = this.#config();
    const ipWindow = cfg.ip?.window ?? 0;
    for (const [k, st] of this.#ips) {
      if (st.blockedUntil <= now && st.times.every((t) => t <= now - ipWindow)) this.#ips.delete(k);
    }
    const userWindow = cfg.user?.window ?? 0;
    for (const [k, st] of this.#users) {
      for (const [h, t] of st.wrong) if (t <= now - userWindow) st.wrong.delete(h);
      for (const [n, t] of st.known) if (t <= now - cfg.known_ip) st.known.delete(n);
      if (st.blockedUntil <= now && st.wrong.size === 0 && st.known.size === 0) this.#users.delete(k);
    }
  }

  #userState(user: string): UserState {
    let st = this.#users.get(user);
    if (!st) {
      st = { wrong: new Map(), blockedUntil: 0, known: new Map() };
      this.#users.set(user, st);
    }
    return st;
  }

  #knownIp(st: UserState, net: string, cfg: LoginLimitsConfig, now: number): boolean {
    const t = st.known.get(net);
    return t !== undefined && cfg.known_ip > 0 && t > now - cfg.known_ip;
  }

  #exempt(ip: string, cfg: LoginLimitsConfig): boolean {
    if (cfg.exempt.length === 0) return false;
    if (this.#exemptSource !== cfg.exempt) {
      this.#exemptSource = cfg.exempt;
      this.#exemptRules = cfg.exempt.flatMap((e) => {
        const r = parseAccessRule("allow", e);
        return r.ok ? [r.rule] : [];
      });
    }
    return matchAccess(this.#exemptRules, { transport: "tcp", ip }) !== null;
  }

  /** A keyed hash of the password (user-bound), truncated: enough to tell passwords apart. */
  #hash(user: string, pass: string): string {
    return createHmac("sha256", this.#key).update(user).update("\0").update(pass).digest("base64").slice(
      0,
      16,
    );
  }
}

/**
 * The counted network of a client address: IPv4 (and IPv4-mapped) as the address
 * (/32), IPv6 as its /64 (`2001:db8:1:2::/64`): one host gets a whole /64.
 */
export function networkOf(ip: string): string {
  const bytes = ipBytes(ip);
  if (bytes === null) return ip;
  if (bytes.length === 4) return bytes.join(".");
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 255 && bytes[11] === 255) {
    return bytes.slice(12).join(".");
  }
  const groups: string[] = [];
  for (let i = 0; i < 8; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  return `${groups.join(":")}::/64`;
}
