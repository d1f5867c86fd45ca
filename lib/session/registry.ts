/**
 * The live sessions of this process: what the admin API lists and can end.
 * @module
 */

import type { MailProtocol } from "../types.ts";

/** One session as the admin API shows it. */
export interface SessionInfo {
  id: string;
  protocol: MailProtocol;
  /** Index of the `[[server]]` it came in on. */
  server: number;
  client: string;
  listen: string;
  /** Login once known (display form). */
  user?: string;
  /** `ip:port` once chosen. */
  backend?: string;
  state: "pre-auth" | "auth" | "backend-login" | "relay";
  /** The client's TLS once its handshake passed (implicit TLS or STARTTLS). */
  tls?: SessionTlsInfo;
  startedAt: number;
  bytesUp: number;
  bytesDown: number;
}

/** A session's client TLS as the admin API shows it (no certificate details). */
export interface SessionTlsInfo {
  protocol: string | null;
  cipher: string | null;
  /** The client certificate check (`SUCCESS`, `NONE`, `FAILED:…`), null when not asked for. */
  verify: string | null;
}

/** A registered session: its info plus the way to end it. */
export interface SessionEntry {
  readonly info: SessionInfo;
  readonly abort: AbortController;
  /** The goodbye being written after an abort; the session closes once it settles. */
  farewell?: Promise<void>;
}

/** Tracks live sessions and names new ones. */
export class SessionRegistry {
  readonly #sessions = new Map<string, SessionEntry>();
  readonly #idPrefix: string;
  #counter = 0;

  /**
   * Worker copies (worker_processes) pass `w<index>-` as `idPrefix`, so ids stay unique
   * over all processes: the same id in the logs and in the supervisor's admin API.
   */
  constructor(idPrefix = "") {
    this.#idPrefix = idPrefix;
  }

  /** A short unique session id: time-ordered base36 plus this registry's counter. */
  newId(): string {
    this.#counter = (this.#counter + 1) % 1_679_616;
    return this.#idPrefix + Date.now().toString(36) + this.#counter.toString(36).padStart(4, "0");
  }

  /** Adds a session; returns its entry. */
  add(info: SessionInfo): SessionEntry {
    const entry = { info, abort: new AbortController() };
    this.#sessions.set(info.id, entry);
    return entry;
  }

  /** Forgets a finished session. */
  remove(id: string): void {
    this.#sessions.delete(id);
  }

  /** All live sessions. */
  list(): SessionInfo[] {
    return [...this.#sessions.values()].map((e) => e.info);
  }

  /** Number of live sessions per protocol. */
  countByProtocol(): Record<MailProtocol, number> {
    const out: Record<MailProtocol, number> = { imap: 0, pop3: 0, smtp: 0, sieve: 0 };
    for (const e of this.#sessions.values()) out[e.info.protocol]++;
    return out;
  }

  /** Ends one session; false if unknown. */
  kill(id: string, reason = "killed by admin"): boolean {
    const e = this.#sessions.get(id);
    if (!e) return false;
    e.abort.abort(reason);
    return true;
  }

  /** Ends every session whose info matches; returns their ids. */
  killWhere(match: (info: SessionInfo) => boolean, reason = "killed by admin"): string[] {
    const ids: string[] = [];
    for (const e of this.#sessions.values()) {
      if (!match(e.info)) continue;
      ids.push(e.info.id);
      e.abort.abort(reason);
    }
    return ids;
  }

  /** Ends every session (shutdown). */
  killAll(reason: string): void {
    for (const e of this.#sessions.values()) e.abort.abort(reason);
  }

  get size(): number {
    return this.#sessions.size;
  }
}
