/**
 * The session object: what one client connection owns from accept to close (its
 * client connection, server config, registry entry, dependencies, log, client facts
 * and protocol record), the phase it is in, its one {@link Deadline}, and the one
 * place where an abort (admin kick, shutdown) is handled.
 *
 * Phases, in order (spec §2): `accept` (PROXY header, access rules, implicit TLS) →
 * `greeting` (SMTP's resolver and greeting delay, the greeting) → `pre-auth`
 * (commands, STARTTLS) ⇄ `authenticating` (the auth service is asked) → `waiting`
 * (Auth-Wait after a failure) → `pre-auth` … or → `backend-connect` (connect, PROXY
 * header, TLS, STARTTLS, IMAP ID) → `backend-login` (the login dialogue; a transport
 * failure may go back to `backend-connect` for the next candidate) → `relay`; any
 * phase may end in `closing`.
 *
 * Memory: the scope holds only what the whole session needs (runSession holds the same
 * things anyway). Login state (front end, credentials, login machine) lives in the
 * phase functions' frames, which end when the relay starts.
 * @module
 */

import type { ServerConfig } from "../config/mod.ts";
import type { ProtocolRecord } from "../protocols/mod.ts";
import type { Conn } from "../transport/mod.ts";
import { Deadline } from "../util/deadline.ts";
import type { ClientFacts, Logger, SessionDeps } from "./context.ts";
import { sayGoodbye } from "./goodbye.ts";
import type { SessionEntry, SessionInfo } from "./registry.ts";

/** Where a session is (see the module doc). */
export type SessionPhase =
  | "accept"
  | "greeting"
  | "pre-auth"
  | "authenticating"
  | "waiting"
  | "backend-connect"
  | "backend-login"
  | "relay"
  | "closing";

/** The phases each phase may go on to (`closing` is always allowed). */
const NEXT: Record<SessionPhase, readonly SessionPhase[]> = {
  accept: ["greeting"],
  greeting: ["pre-auth"],
  "pre-auth": ["authenticating"],
  authenticating: ["waiting", "pre-auth", "backend-connect"],
  waiting: ["pre-auth"],
  "backend-connect": ["backend-login", "backend-connect"],
  "backend-login": ["backend-connect", "relay"],
  relay: [],
  closing: [],
};

/** What the admin API shows for each phase (unchanged since before the phases existed). */
const REGISTRY_STATE: Record<SessionPhase, SessionInfo["state"] | null> = {
  accept: "pre-auth",
  greeting: "pre-auth",
  "pre-auth": "pre-auth",
  authenticating: "auth",
  waiting: "auth",
  "backend-connect": "backend-login",
  "backend-login": "backend-login",
  relay: "relay",
  closing: null,
};

/** One client session (see the module doc). */
export class SessionScope {
  /** The phase the session is in. */
  #phase: SessionPhase = "accept";
  /** The one timer of the session's login phases: each phase arms it for its own timeout. */
  readonly deadline = new Deadline();
  /** The backend connection while the backend phases own it (closed on abort). */
  backend: Conn | null = null;
  readonly #onAbort = () => this.#aborted();

  constructor(
    readonly client: Conn,
    readonly server: ServerConfig,
    readonly entry: SessionEntry,
    readonly deps: SessionDeps,
    readonly log: Logger,
    readonly protocol: ProtocolRecord,
    readonly facts: ClientFacts = {},
  ) {
    entry.abort.signal.addEventListener("abort", this.#onAbort);
  }

  get phase(): SessionPhase {
    return this.#phase;
  }

  /** The abort signal of the session (kick, shutdown). */
  get signal(): AbortSignal {
    return this.entry.abort.signal;
  }

  /** True once the session was kicked or the process shuts down. */
  get aborted(): boolean {
    return this.entry.abort.signal.aborted;
  }

  /** Moves to `next`; a move the phase machine does not allow is a bug and throws. */
  enter(next: SessionPhase): void {
    if (next !== "closing" && !NEXT[this.#phase].includes(next)) {
      throw new Error(`session phase ${this.#phase} cannot go to ${next}`);
    }
    this.#phase = next;
    const state = REGISTRY_STATE[next];
    if (state !== null) this.entry.info.state = state;
  }

  /**
   * The relay owns both connections and watches the abort signal itself from here
   * on: the scope lets go of them (and its abort handler, so nothing of the login
   * stays reachable from the signal).
   */
  handOff(): void {
    this.enter("relay");
    this.backend = null;
    this.deadline.disarm();
    this.entry.abort.signal.removeEventListener("abort", this.#onAbort);
  }

  /** The session is over: timers and the abort handler go. */
  close(): void {
    this.enter("closing");
    this.deadline.disarm();
    this.entry.abort.signal.removeEventListener("abort", this.#onAbort);
  }

  /**
   * Kick or shutdown before the relay: the backend (if any) is closed, the client gets
   * its protocol's goodbye, then the connection closes (goodbye.ts). The phase that
   * was waiting then sees its read end or its step fail and ends the session.
   */
  #aborted(): void {
    if (this.#phase === "relay" || this.#phase === "closing") return;
    this.backend?.close();
    this.entry.farewell = sayGoodbye(this.client, this.protocol.lines, this.signal.reason);
  }
}
