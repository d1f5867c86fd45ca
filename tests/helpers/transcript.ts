/**
 * Side-by-side transcripts: the same client bytes sent to nginx and to mailproxy,
 * the replies collected per step for comparison.
 * @module
 */

import { LineClient } from "./line_client.ts";

/** One client step: bytes to send (latin1), then what ends the reply. */
export interface TranscriptStep {
  /** Raw bytes to send (CRLF included); omitted = only read (e.g. the greeting). */
  send?: string;
  /**
   * When the reply is complete:
   * - a string: a complete line starting with it has arrived (e.g. `"a1 "`, `"+ "`, `"-ERR"`, `"250 "`);
   * - `"close"`: the server closed the connection;
   * - `"quiet"` (default): no new bytes for 300 ms.
   */
  until?: string;
}

/** A transcript's replies: one string per step, plus whether the server closed at the end. */
export interface TranscriptResult {
  replies: string[];
  closed: boolean;
}

/** Connects to 127.0.0.1:port and plays `steps`; each step's reply is collected separately. */
export async function runTranscript(port: number, steps: TranscriptStep[]): Promise<TranscriptResult> {
  const client = await LineClient.open(port);
  const replies: string[] = [];
  try {
    for (const step of steps) {
      if (step.send !== undefined) client.send(step.send);
      const until = step.until ?? "quiet";
      if (until === "close") replies.push(await client.read(() => false, 3000, 3000));
      else if (until === "quiet") replies.push(await client.read());
      else replies.push(await client.readUntilLine(until, 5000));
    }
    // A short grace period shows whether the server closed after the last reply.
    const tail = await client.read(() => false, 150, 150);
    if (tail) replies[replies.length - 1] += tail;
    return { replies, closed: client.closed };
  } finally {
    client.close();
  }
}

/** Shows a reply with visible CR/LF, for assertion messages. */
export function visible(text: string): string {
  return text.replaceAll("\r", "\\r").replaceAll("\n", "\\n");
}
