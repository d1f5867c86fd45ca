/**
 * A raw TCP client for transcripts: send exact bytes, read replies until a
 * condition or a quiet period. Used by side-by-side and hostile-input tests.
 * @module
 */

import { connect, type Socket } from "node:net";
import { ReplyReader } from "./reply_reader.ts";

/** A connected raw client. */
export class LineClient extends ReplyReader {
  private constructor(readonly socket: Socket) {
    super();
    this.attach(socket);
  }

  /** Connects to 127.0.0.1:port. */
  static open(port: number, host = "127.0.0.1"): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ host, port });
      s.once("connect", () => resolve(new LineClient(s)));
      s.once("error", reject);
    });
  }

  /** Sends a string (latin1 bytes) as is. */
  send(text: string): void {
    this.socket.write(new Uint8Array([...text].map((c) => c.charCodeAt(0))));
  }

  close(): void {
    this.socket.destroy();
  }
}
