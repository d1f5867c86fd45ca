/**
 * A minimal IMAP backend for the idle-session memory test: greets like Dovecot, accepts any
 * LOGIN, answers EXAMINE, LOGOUT and anything else with OK, and otherwise stays silent.
 * Dovecot would need one imap process per idle session (5 000 processes) and leaves them behind,
 * halving later login rates; what is measured here is the proxy's memory, which does not depend
 * on who answers behind it.
 *
 *   deno run -A scripts/bench/idle_backend.ts --port N
 * @module
 */

import { parseArgs } from "node:util";

const CAPS = "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN";
const encoder = new TextEncoder();

/**
 * Splits complete commands off `pending`: a command is a line, plus literal data and further
 * line text after every `{N}` / `{N+}` (nginx logs in with synchronising literals, so each `{N}`
 * gets its `+` continuation once).
 */
class CommandSplitter {
  #pending = "";
  #continued = 0;

  constructor(readonly onContinue: () => void) {}

  /** Adds received text and returns the commands it completed. */
  push(text: string): string[] {
    this.#pending += text;
    const done: string[] = [];
    let at = 0;
    while (true) {
      const eol = this.#pending.indexOf("\n", at);
      if (eol < 0) break;
      const literal = /\{(\d+)(\+?)\}\r?$/.exec(this.#pending.slice(at, eol));
      if (!literal) {
        done.push(this.#pending.slice(0, eol).trim());
        this.#pending = this.#pending.slice(eol + 1);
        this.#continued = 0;
        at = 0;
        continue;
      }
      const skip = eol + 1 + Number(literal[1]);
      if (literal[2] === "" && this.#continued <= eol) {
        this.#continued = eol + 1;
        this.onContinue();
      }
      if (this.#pending.length < skip) break;
      at = skip;
    }
    return done;
  }
}

async function serve(conn: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(1024);
  const send = (text: string) => conn.write(encoder.encode(text));
  const decoder = new TextDecoder("latin1");
  let writes = Promise.resolve(0);
  const splitter = new CommandSplitter(() => (writes = writes.then(() => send("+ OK\r\n"))));
  try {
    await send(`* OK [CAPABILITY ${CAPS}] bench backend ready.\r\n`);
    while (true) {
      const n = await conn.read(buf);
      if (n === null) break;
      const commands = splitter.push(decoder.decode(buf.subarray(0, n)));
      await writes;
      for (const line of commands) {
        const [tag, command = ""] = line.split(" ");
        switch (command.toUpperCase()) {
          case "LOGIN":
            await send(`${tag} OK [CAPABILITY ${CAPS}] Logged in\r\n`);
            break;
          case "EXAMINE":
          case "SELECT":
            await send(`* 0 EXISTS\r\n* 0 RECENT\r\n${tag} OK [READ-ONLY] done\r\n`);
            break;
          case "LOGOUT":
            await send(`* BYE bye\r\n${tag} OK Logout completed.\r\n`);
            return;
          default:
            await send(`${tag} OK done\r\n`);
        }
      }
    }
  } catch {
    // Client went away.
  } finally {
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ args: Deno.args, options: { port: { type: "string", default: "0" } } });
  const listener = Deno.listen({ hostname: "127.0.0.1", port: Number(values.port) });
  console.log(`listening ${(listener.addr as Deno.NetAddr).port}`);
  for await (const conn of listener) serve(conn);
}
