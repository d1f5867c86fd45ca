/**
 * IMAP's backend preamble (see ../common/backend_preamble.ts): `STARTTLS` when
 * `backend_tls = "starttls"`, then the `ID` of `imap_id` (backend_id.ts). Each waits
 * for the tagged reply of mailproxy's own command; untagged lines before it are
 * skipped. Any tagged reply ends the ID exchange: ID is informational, a NO or BAD
 * is no reason to stop.
 * @module
 */

import { toBinary } from "../../util/bytes.ts";
import {
  type BackendPreamble,
  lastLine,
  preambleFail,
  PreambleReader,
  type PreambleStep,
} from "../common/backend_preamble.ts";
import { ID_TAG, imapIdCommand } from "./backend_id.ts";

/** The tag of mailproxy's STARTTLS command. */
export const STARTTLS_TAG = "mp0";

const TAGGED_OK = new RegExp(`^${STARTTLS_TAG} OK\\b`, "i");

type Phase = "greeting" | "starttls" | "tls" | "id" | "done";

/** One IMAP backend preamble. */
export class ImapBackendPreamble implements BackendPreamble {
  readonly #reader: PreambleReader;
  readonly #starttls: boolean;
  readonly #id: Uint8Array | null;
  #phase: Phase = "greeting";

  /** `id`: the ID command to send after TLS (null = none). */
  constructor(proxyBuffer: number, starttls: boolean, id: Uint8Array | null) {
    this.#reader = new PreambleReader(proxyBuffer);
    this.#starttls = starttls;
    this.#id = id;
  }

  receive(data: Uint8Array): PreambleStep | null {
    const reply = this.#reader.read(data);
    if (!(reply instanceof Uint8Array)) return reply;
    switch (this.#phase) {
      case "greeting":
        this.#reader.keepGreeting(reply);
        if (!this.#starttls) return this.#afterTls();
        this.#phase = "starttls";
        return this.#reader.send(`${STARTTLS_TAG} STARTTLS\r\n`);
      case "starttls": {
        if (!hasTagged(reply, STARTTLS_TAG)) return null;
        const line = lastLine(reply);
        if (!TAGGED_OK.test(line)) return preambleFail(`backend refused STARTTLS: ${line}`);
        this.#phase = "tls";
        return this.#reader.starttls();
      }
      case "id":
        if (!hasTagged(reply, ID_TAG)) return null;
        this.#phase = "done";
        return this.#reader.done();
      default:
        return preambleFail("unexpected backend data");
    }
  }

  tlsDone(): PreambleStep {
    return this.#afterTls();
  }

  #afterTls(): PreambleStep {
    if (this.#id === null) {
      this.#phase = "done";
      return this.#reader.done();
    }
    this.#phase = "id";
    return this.#reader.send(this.#id);
  }
}

/** The preamble of an IMAP session, or null when there is nothing to say before the login. */
export function imapBackendPreamble(
  opts: { starttls: boolean; proxyBuffer: number; imapId: Parameters<typeof imapIdCommand>[0] | null },
): BackendPreamble | null {
  if (!opts.starttls && opts.imapId === null) return null;
  return new ImapBackendPreamble(
    opts.proxyBuffer,
    opts.starttls,
    opts.imapId === null ? null : imapIdCommand(opts.imapId),
  );
}

/** True when a line of `reply` starts with `tag` and a space (the tagged reply has come). */
function hasTagged(reply: Uint8Array, tag: string): boolean {
  const text = toBinary(reply);
  return text.startsWith(tag + " ") || text.includes("\n" + tag + " ");
}
