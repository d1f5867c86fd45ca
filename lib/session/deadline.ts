/**
 * nginx's pre-auth `timeout`: one deadline for the whole phase, not per command
 * (spec §4.0.7), paused while the auth service is asked and re-armed after a
 * failed attempt with Auth-Wait.
 * @module
 */

/** A restartable one-shot deadline. */
export class Deadline {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #expired = false;

  constructor(readonly ms: number, readonly onExpire: () => void) {}

  /** (Re)starts the full period. */
  start(): void {
    this.stop();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#expired = true;
      this.onExpire();
    }, this.ms);
  }

  /** Cancels without expiring. */
  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** True once the deadline fired. */
  get expired(): boolean {
    return this.#expired;
  }
}
