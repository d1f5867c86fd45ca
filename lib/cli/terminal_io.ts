/**
 * The real {@link HashPasswordIo} over `node:process` (Deno and Bun alike): reads a
 * secret line without echo on a terminal, or all of stdin from a pipe.
 * @module
 */

import { concat } from "../util/bytes.ts";
import process from "node:process";
import type { HashPasswordIo } from "./hash_password.ts";

/** Terminal bytes handled while reading a secret in raw mode. */
const CTRL_C = "\x03";
const CTRL_D = "\x04";
const BACKSPACE = ["\x08", "\x7f"];

/** Reads one line from a TTY in raw mode so nothing is echoed; Ctrl-C exits 130. */
function readSecretLine(): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve) => {
    let line = "";
    const finish = () => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      // The Enter key was not echoed either.
      process.stderr.write("\n");
      resolve(line);
    };
    const onData = (chunk: Uint8Array | string) => {
      const text = typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk);
      for (const ch of text) {
        if (ch === "\r" || ch === "\n" || (ch === CTRL_D && line === "")) return finish();
        if (ch === CTRL_C) {
          stdin.setRawMode(false);
          process.stderr.write("\n");
          process.exit(130);
        }
        if (BACKSPACE.includes(ch)) line = Array.from(line).slice(0, -1).join("");
        else if (ch >= " ") line += ch;
      }
    };
    stdin.setRawMode(true);
    stdin.on("data", onData);
    stdin.resume();
  });
}

/** Reads stdin to its end as UTF-8 text. */
async function readAll(): Promise<string> {
  const parts: Uint8Array[] = [];
  for await (const chunk of process.stdin) {
    parts.push(typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk);
  }
  return new TextDecoder().decode(concat(parts));
}

/** The process's stdin/stdout/stderr as a {@link HashPasswordIo}. */
export function createTerminalIo(): HashPasswordIo {
  const isTty = Boolean(process.stdin.isTTY);
  return {
    isTty,
    readStdin: isTty ? readSecretLine : readAll,
    write: (s) => void process.stdout.write(s),
    error: (s) => void process.stderr.write(s),
  };
}
