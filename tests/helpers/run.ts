/**
 * Runs a real client (curl, python3, swaks, openssl …) as a child process, asynchronously:
 * never a *Sync call, because lab servers such as the auth service live in the test process.
 * @module
 */

/** What a finished command left. */
export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `cmd` with `args`, `input` on stdin (closed either way); killed after `timeoutMs`. */
export async function run(cmd: string, args: string[], input?: string, timeoutMs = 30_000): Promise<Ran> {
  const child = new Deno.Command(cmd, { args, stdin: "piped", stdout: "piped", stderr: "piped" }).spawn();
  const writer = child.stdin.getWriter();
  if (input !== undefined) await writer.write(new TextEncoder().encode(input));
  await writer.close();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
  }, timeoutMs);
  const out = await child.output();
  clearTimeout(timer);
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/** Runs a Python snippet; `args` become sys.argv[1:]. */
export function python(code: string, ...args: string[]): Promise<Ran> {
  return run("python3", ["-c", code, ...args]);
}
