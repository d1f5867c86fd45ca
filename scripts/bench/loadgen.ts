/**
 * The benchmark's load generator, run as its own process so its CPU is measured apart from the
 * servers'. Raw `Deno.connect` clients in one event loop.
 *
 *   deno run -A scripts/bench/loadgen.ts --op imap_login --port 1143 --clients 50
 *
 * Protocol with the orchestrator (scripts/bench/cell.ts), one line each on stdout/stdin:
 * it prints `ready` once its clients are set up, reads `go START END` (epoch ms), counts
 * operations finished and bytes received between START and END, then prints `result {json}`
 * and exits. With `--op idle` it opens `--sessions` logged-in IMAP sessions, prints
 * `ready {json}`, and holds them until stdin says `close` (or ends).
 * @module
 */

import { parseArgs } from "node:util";
import {
  type Dial,
  imapFetch,
  imapLogin,
  imapSession,
  type Login,
  pop3Login,
  smtpBody,
  smtpSend,
} from "./client_ops.ts";
import { received, type Wire } from "./wire.ts";

/** What a generator prints after its window. */
export interface GeneratorResult {
  /** Operations (logins, messages, FETCHes) finished inside the window. */
  ops: number;
  /** Bytes received inside the window. */
  bytes: number;
  /** Failed operations inside the window. */
  errors: number;
  /** The first error's text. */
  firstError?: string;
  /** Mean operation latency in ms (operations finished in the window). */
  meanLatencyMs: number;
  /** The window actually measured, ms. */
  windowMs: number;
}

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    op: { type: "string" },
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string" },
    ca: { type: "string" },
    clients: { type: "string", default: "1" },
    "client-offset": { type: "string", default: "0" },
    users: { type: "string", default: "50" },
    password: { type: "string", default: "benchpass" },
    seq: { type: "string", default: "1" },
    size: { type: "string", default: "10240" },
    rcpt: { type: "string", default: "alice@mail.test" },
    sessions: { type: "string", default: "0" },
  },
});

const dialTo: Dial = {
  host: args.host!,
  port: Number(args.port),
  caPem: args.ca ? Deno.readTextFileSync(args.ca) : undefined,
};
const clients = Number(args.clients);
const offset = Number(args["client-offset"]);
const userCount = Number(args.users);
const loginOf = (i: number): Login => ({ user: `bench${(offset + i) % userCount}`, pass: args.password! });

const lines = (async function* () {
  let pending = "";
  const decoder = new TextDecoder();
  for await (const chunk of Deno.stdin.readable) {
    pending += decoder.decode(chunk, { stream: true });
    let at;
    while ((at = pending.indexOf("\n")) >= 0) {
      yield pending.slice(0, at).trim();
      pending = pending.slice(at + 1);
    }
  }
})();

async function nextLine(): Promise<string | undefined> {
  const { value, done } = await lines.next();
  return done ? undefined : value;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Opens `--sessions` logged-in sessions, 50 at a time, and holds them until told to close. */
async function idle(): Promise<void> {
  const total = Number(args.sessions);
  const wires: Wire[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let next = 0;
  const opener = async () => {
    while (next < total) {
      const i = next++;
      try {
        wires.push(await imapSession(dialTo, loginOf(i), 1024));
      } catch (err) {
        errors++;
        firstError ??= describe(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(50, total) }, opener));
  console.log(`ready ${JSON.stringify({ sessions: wires.length, errors, firstError })}`);
  while (true) {
    const line = await nextLine();
    if (line === undefined || line === "close") break;
  }
  for (const w of wires) w.close();
}

/** Runs `--clients` loops of the operation and counts what finishes inside the window. */
async function load(): Promise<void> {
  const op = args.op!;
  const body = smtpBody(Number(args.size), "bench@bench.test", args.rcpt!);
  const seq = Number(args.seq);
  // FETCH clients log in once, before the window; login workloads reconnect per operation.
  const sessions: Wire[] = [];
  if (op === "imap_fetch") {
    for (let i = 0; i < clients; i++) sessions.push(await imapSession(dialTo, loginOf(i), 256 * 1024));
  }
  const run = (i: number): Promise<void> => {
    switch (op) {
      case "imap_login":
        return imapLogin(dialTo, loginOf(i));
      case "pop3_login":
        return pop3Login(dialTo, loginOf(i));
      case "smtp_send":
        return smtpSend(dialTo, loginOf(i), args.rcpt!, body);
      case "imap_fetch":
        return imapFetch(sessions[i], seq);
      default:
        throw new Error(`unknown --op ${op}`);
    }
  };

  console.log("ready");
  const go = (await nextLine())?.split(" ") ?? [];
  if (go[0] !== "go") return;
  const start = Number(go[1]);
  const end = Number(go[2]);
  let stopping = false;
  let ops = 0;
  let errors = 0;
  let latency = 0;
  let firstError: string | undefined;
  let bytesAtStart = 0;
  let bytesAtEnd = 0;
  setTimeout(() => (bytesAtStart = received.bytes), Math.max(0, start - Date.now()));
  const ended = new Promise<void>((resolve) =>
    setTimeout(() => {
      bytesAtEnd = received.bytes;
      stopping = true;
      resolve();
    }, Math.max(0, end - Date.now()))
  );

  const loop = async (i: number) => {
    while (!stopping) {
      const began = Date.now();
      try {
        await run(i);
        const now = Date.now();
        if (now >= start && now <= end) {
          ops++;
          latency += now - began;
        }
      } catch (err) {
        const now = Date.now();
        if (now >= start && now <= end) {
          errors++;
          firstError ??= describe(err);
        }
        // A failing target must not turn the generator into a busy loop.
        await new Promise((r) => setTimeout(r, 20));
        if (op === "imap_fetch") return;
      }
    }
  };
  const loops = Promise.all(Array.from({ length: clients }, (_, i) => loop(i)));
  await ended;
  const result: GeneratorResult = {
    ops,
    bytes: bytesAtEnd - bytesAtStart,
    errors,
    firstError,
    meanLatencyMs: ops > 0 ? latency / ops : 0,
    windowMs: end - start,
  };
  console.log(`result ${JSON.stringify(result)}`);
  // Let operations in flight finish (bounded), so servers see clean LOGOUTs, not resets.
  await Promise.race([loops, new Promise((r) => setTimeout(r, 5000))]);
  for (const w of sessions) w.close();
}

if (import.meta.main) {
  try {
    if (args.op === "idle") await idle();
    else await load();
  } catch (err) {
    console.log(`error ${describe(err)}`);
  }
  Deno.exit(0);
}
