/**
 * Judges a backend's greeting for a health check (sans-I/O): bytes in, a verdict out.
 * IMAP `* OK` / `* PREAUTH`, POP3 `+OK`, SMTP `220` (the last line of a multi-line
 * greeting) are good; anything else, or a first line longer than 1 KiB, is not.
 * @module
 */

import type { MailProtocol } from "../types.ts";

/** A verdict, or `more` while the greeting is incomplete. */
export type GreetingVerdict = "ok" | "bad" | "more";

const LIMIT = 1024;

/** Feeds greeting bytes; call {@link verdict} after each chunk. */
export class GreetingCheck {
  #text = "";
  constructor(readonly protocol: MailProtocol) {}

  /** Adds a chunk and judges what is there so far. */
  receive(chunk: Uint8Array): GreetingVerdict {
    for (const b of chunk) this.#text += String.fromCharCode(b);
    return this.verdict();
  }

  verdict(): GreetingVerdict {
    const text = this.#text;
    if (this.protocol === "smtp") {
      // 220-… continuation lines until "220 …".
      let start = 0;
      while (true) {
        const end = text.indexOf("\n", start);
        if (end < 0) return text.length - start > LIMIT || text.length > 16 * LIMIT ? "bad" : "more";
        const line = text.slice(start, end);
        if (!line.startsWith("220")) return "bad";
        if (line[3] !== "-") return "ok";
        start = end + 1;
      }
    }
    const end = text.indexOf("\n");
    if (end < 0) return text.length > LIMIT ? "bad" : "more";
    const line = text.slice(0, end);
    if (this.protocol === "imap") return /^\* (OK|PREAUTH)\b/i.test(line) ? "ok" : "bad";
    return line.startsWith("+OK") ? "ok" : "bad";
  }
}
