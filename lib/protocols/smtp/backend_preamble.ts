/**
 * SMTP's backend preamble (see ../common/backend_preamble.ts): `EHLO` then
 * `STARTTLS` when `backend_tls = "starttls"` (RFC 3207), nothing otherwise. A
 * multi-line reply is complete at its last line (`250 …`, not `250-…`).
 * @module
 */

import {
  type BackendPreamble,
  lastLine,
  preambleFail,
  PreambleReader,
  type PreambleStep,
} from "../common/backend_preamble.ts";

/** One SMTP backend preamble (EHLO, STARTTLS). */
export class SmtpBackendPreamble implements BackendPreamble {
  readonly #reader: PreambleReader;
  readonly #ehloName: string;
  #phase: "greeting" | "ehlo" | "starttls" | "tls" = "greeting";

  constructor(proxyBuffer: number, ehloName: string) {
    this.#reader = new PreambleReader(proxyBuffer);
    this.#ehloName = ehloName;
  }

  receive(data: Uint8Array): PreambleStep | null {
    const reply = this.#reader.read(data);
    if (!(reply instanceof Uint8Array)) return reply;
    const line = lastLine(reply);
    // A continuation line (`250-…`) last: the reply goes on.
    if (/^\d{3}-/.test(line)) return null;
    switch (this.#phase) {
      case "greeting":
        this.#reader.keepGreeting(reply);
        this.#phase = "ehlo";
        return this.#reader.send(`EHLO ${this.#ehloName}\r\n`);
      case "ehlo":
        if (!line.startsWith("250")) return preambleFail(`backend refused EHLO: ${line}`);
        this.#phase = "starttls";
        return this.#reader.send("STARTTLS\r\n");
      case "starttls":
        if (!line.startsWith("220")) return preambleFail(`backend refused STARTTLS: ${line}`);
        this.#phase = "tls";
        return this.#reader.starttls();
      default:
        return preambleFail("unexpected backend data");
    }
  }

  tlsDone(): PreambleStep {
    return this.#reader.done();
  }
}

/** The preamble of an SMTP session, or null when there is nothing to say before the login. */
export function smtpBackendPreamble(
  opts: { starttls: boolean; proxyBuffer: number; ehloName: string },
): BackendPreamble | null {
  return opts.starttls ? new SmtpBackendPreamble(opts.proxyBuffer, opts.ehloName) : null;
}
