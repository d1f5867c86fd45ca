/**
 * `mailproxy hash-password [--stdin]`: prints a `$scrypt$…` hash for
 * `[[static_auth.user]].password`. The password comes from stdin only: argv would
 * show it to every user of the machine in `ps`.
 * @module
 */

import { hashPassword } from "../auth/mod.ts";

/** What the command needs from the outside world. */
export interface HashPasswordIo {
  /**
   * On a TTY: reads one line, without echo where possible. Otherwise: all of stdin.
   * Prompting is the caller's job (see {@link HashPasswordIo.error}).
   */
  readStdin(): Promise<string>;
  /** Standard output: the hash. */
  write(s: string): void;
  /** Standard error: prompts and messages (so `$(mailproxy hash-password)` captures only the hash). Falls back to `write`. */
  error?(s: string): void;
  isTty: boolean;
}

const USAGE = "usage: mailproxy hash-password [--stdin]\n" +
  "  Reads a password from stdin (prompts without echo on a terminal) and prints its scrypt hash.\n";

/** Runs the command; resolves with the exit code. */
export async function runHashPassword(args: string[], io: HashPasswordIo): Promise<number> {
  const err = (s: string) => (io.error ?? io.write)(s);
  for (const arg of args) {
    if (arg === "--stdin") continue;
    if (arg === "-h" || arg === "--help") {
      io.write(USAGE);
      return 0;
    }
    err(
      arg.startsWith("-")
        ? `mailproxy hash-password: unknown option ${arg}\n${USAGE}`
        : "mailproxy hash-password: the password is read from stdin, not the command line (argv shows in ps)\n" +
          USAGE,
    );
    return 2;
  }

  let password: string;
  if (io.isTty) {
    err("Password: ");
    password = stripNewline(await io.readStdin());
    err("Repeat password: ");
    if (stripNewline(await io.readStdin()) !== password) {
      err("mailproxy hash-password: the passwords differ\n");
      return 1;
    }
  } else {
    password = stripNewline(await io.readStdin());
  }
  if (password === "") {
    err("mailproxy hash-password: empty password\n");
    return 1;
  }
  if (/[\r\n]/.test(password)) {
    // Clients cannot send a line break inside a password; this is likely a wrong file.
    err("mailproxy hash-password: the password contains a line break\n");
    return 1;
  }
  io.write(`${await hashPassword(password)}\n`);
  return 0;
}

/** Drops one trailing line end (what `echo` or the Enter key adds). */
function stripNewline(s: string): string {
  return s.replace(/\r?\n$/, "");
}
