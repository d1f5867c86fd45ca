/**
 * POP3's backend preamble (see ../common/backend_preamble.ts): `STLS` when
 * `backend_tls = "starttls"` (RFC 2595), nothing otherwise.
 * @module
 */

import {
  type BackendPreamble,
  lastLine,
  preambleFail,
  PreambleReader,
  type PreambleStep,
} from "../common/backend_preamble.ts";

/** One POP3 backend preamble (STLS). */
export class Pop3BackendPreamble implements BackendPreamble {
  readonly #reader: PreambleReader;
  #phase: "greeting" | "stls" | "tls" = "greeting";

  constructor(proxyBuffer: number) {
    this.#reader = new PreambleReader(proxyBuffer);
  }

  receive(data: Uint8Array): PreambleStep | null {
    const reply = this.#reader.read(data);
    if (!(reply instanceof Uint8Array)) return reply;
    switch (this.#phase) {
      case "greeting":
        this.#reader.keepGreeting(reply);
        this.#phase = "stls";
        return this.#reader.send("STLS\r\n");
      case "stls": {
        const line = lastLine(reply);
        if (!line.startsWith("+OK")) return preambleFail(`backend refused STARTTLS: ${line}`);
        this.#phase = "tls";
        return this.#reader.starttls();
      }
      default:
        return preambleFail("unexpected backend data");
    }
  }

  tlsDone(): PreambleStep {
    return this.#reader.done();
  }
}

/** The preamble of a POP3 session, or null when there is nothing to say before the login. */
export function pop3BackendPreamble(
  opts: { starttls: boolean; proxyBuffer: number },
): BackendPreamble | null {
  return opts.starttls ? new Pop3BackendPreamble(opts.proxyBuffer) : null;
}
