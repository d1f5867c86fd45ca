/**
 * A private nginx with the mail module (Debian 12: nginx 1.22.1 + libnginx-mod-mail) on
 * 127.0.0.1, used as the reference implementation in side-by-side tests and benchmarks.
 * @module
 */

import { freePort, waitForPort } from "./ports.ts";

/** Path of Debian's dynamic mail module (package libnginx-mod-mail). */
export const NGINX_MAIL_MODULE = "/usr/lib/nginx/modules/ngx_mail_module.so";

const NGINX = "/usr/sbin/nginx";
const BIND_ATTEMPTS = 3;

/** Options of {@linkcode startNginxMail}. */
export interface NginxOptions {
  /** auth_http URL written at mail level (e.g. AuthService.url). */
  authHttp: string;
  /**
   * Raw `server { ... }` blocks for the `mail {}` block. Placeholders: `{{port:NAME}}` becomes a free
   * port (the same NAME gives the same port; returned in `Nginx.ports` and waited for),
   * `{{dir}}` the instance directory, `{{authHttp}}` the auth_http URL.
   */
  servers: string;
  /** Extra directives at `mail {}` level (placeholders allowed), e.g. `server_name mx.test;`. */
  mailLevel?: string;
  /** Extra directives at top level (placeholders allowed), e.g. `worker_shutdown_timeout 1s;`. */
  mainLevel?: string;
  /** Contents of `events {}`. Default `worker_connections 1024;`. */
  events?: string;
  /** Ports given literally in `servers` to wait for (placeholder ports are waited for anyway). */
  ports?: number[];
  /** Directory for the instance (created if missing, kept on stop). Default: a new temp dir, removed on stop. */
  dir?: string;
  /** Keep the temp dir after stop (also when the environment sets MAILPROXY_LAB_KEEP=1). */
  keepDir?: boolean;
  /** How long to wait for the listeners, in ms. Default 10 000. */
  startTimeoutMs?: number;
}

/** A running private nginx. */
export interface Nginx {
  /** The instance directory (nginx.conf, error.log, nginx.pid). */
  dir: string;
  /** Ports allocated for `{{port:NAME}}` placeholders, by NAME. */
  ports: Record<string, number>;
  /** The master's pid. */
  pid: number;
  /** The generated nginx.conf text. */
  config: string;
  /** error.log (info level) so far. */
  errorLog(): string;
  /** What nginx wrote to stdout/stderr so far (startup errors before error_log is open). */
  output(): string;
  /** Sends a signal to the master (e.g. SIGHUP to reload, SIGQUIT for a graceful stop). */
  signal(sig: Deno.Signal): void;
  /** Fast shutdown (SIGTERM) and waits for the master to exit; SIGKILL after 5 s. */
  stop(): Promise<void>;
}

function substitute(text: string, dir: string, authHttp: string, ports: Record<string, number>): string {
  return text
    .replaceAll("{{dir}}", dir)
    .replaceAll("{{authHttp}}", authHttp)
    .replace(/\{\{port:([A-Za-z0-9_.-]+)\}\}/g, (_, name: string) => String(ports[name]));
}

function fileSize(path: string): number {
  try {
    return Deno.statSync(path).size;
  } catch {
    return 0;
  }
}

/** The file's text from byte `offset` on ("" if missing). */
function readFrom(path: string, offset = 0): string {
  try {
    return new TextDecoder().decode(Deno.readFileSync(path).subarray(offset));
  } catch {
    return "";
  }
}

/** Polls `path` (from byte `offset`) until it contains `needle`; fails early when `dead()` says so. */
async function waitForLog(
  path: string,
  offset: number,
  needle: string,
  timeoutMs: number,
  dead: () => unknown,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!readFrom(path, offset).includes(needle)) {
    if (dead()) throw new Error(`nginx exited before "${needle}"`);
    if (Date.now() > deadline) throw new Error(`no "${needle}" in ${path} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function drain(stream: ReadableStream<Uint8Array>, sink: { text: string }): Promise<void> {
  const decoder = new TextDecoder();
  for await (const chunk of stream) sink.text += decoder.decode(chunk, { stream: true });
}

/**
 * Starts `nginx -c <dir>/nginx.conf -p <dir>/` in the foreground (`daemon off`) with the mail
 * module loaded, `user www-data`, one worker, `error_log <dir>/error.log info` and a `mail {}`
 * block made of `auth_http`, `mailLevel` and `servers`. Resolves once the master logged "start
 * worker processes" (every socket bound) and every port accepts. Retries with new ports when a
 * `{{port:NAME}}` port was taken meanwhile; otherwise throws with nginx's output and error.log tail.
 */
export async function startNginxMail(opts: NginxOptions): Promise<Nginx> {
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? await Deno.makeTempDir({ prefix: "mailproxy-nginx-" });
  const keep = opts.keepDir || Deno.env.get("MAILPROXY_LAB_KEEP") === "1";
  await Deno.mkdir(`${dir}/logs`, { recursive: true });
  const confPath = `${dir}/nginx.conf`;
  const errorLogPath = `${dir}/error.log`;
  const names = new Set<string>();
  for (const text of [opts.servers, opts.mailLevel ?? "", opts.mainLevel ?? ""]) {
    for (const m of text.matchAll(/\{\{port:([A-Za-z0-9_.-]+)\}\}/g)) names.add(m[1]);
  }

  let lastError = "";
  for (let attempt = 1; attempt <= BIND_ATTEMPTS; attempt++) {
    const ports: Record<string, number> = {};
    for (const name of names) ports[name] = await freePort();
    const sub = (text: string) => substitute(text, dir, opts.authHttp, ports);
    const config = `# Generated by tests/lab/nginx.ts: a private loopback instance.
load_module ${NGINX_MAIL_MODULE};
daemon off;
master_process on;
worker_processes 1;
user www-data;
pid ${dir}/nginx.pid;
error_log ${errorLogPath} info;
${sub(opts.mainLevel ?? "")}
events {
  ${opts.events ?? "worker_connections 1024;"}
}

mail {
  auth_http ${opts.authHttp};
${sub(opts.mailLevel ?? "")}
${sub(opts.servers)}
}
`;
    await Deno.writeTextFile(confPath, config);
    const logStart = fileSize(errorLogPath);
    const child = new Deno.Command(NGINX, {
      args: ["-c", confPath, "-p", `${dir}/`],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const out = { text: "" };
    const drained = Promise.all([drain(child.stdout, out), drain(child.stderr, out)]);
    let exited: Deno.CommandStatus | undefined;
    const status = child.status.then((s) => {
      exited = s;
      return s;
    });
    const stop = async () => {
      if (!exited) {
        try {
          child.kill("SIGTERM");
        } catch { /* already exited */ }
        const timer = setTimeout(() => {
          try {
            child.kill("SIGKILL");
          } catch { /* gone */ }
        }, 5000);
        await status;
        clearTimeout(timer);
      }
      await drained;
    };
    try {
      const timeoutMs = opts.startTimeoutMs ?? 10000;
      const exitedEarly = status.then((s) => `nginx exited with code ${s.code}`);
      // nginx binds what it can and retries the rest for 2.5 s, so accepting ports alone do not
      // prove it is up: wait for the master's "start worker processes" (all sockets bound) too.
      await waitForLog(errorLogPath, logStart, "start worker processes", timeoutMs, () => exited);
      for (const port of [...Object.values(ports), ...(opts.ports ?? [])]) {
        await waitForPort(port, timeoutMs, exitedEarly);
      }
    } catch (err) {
      await stop();
      const log = readFrom(errorLogPath, logStart);
      lastError = `${err}\n--- nginx output ---\n${out.text.trimEnd()}\n--- ${errorLogPath} ---\n${
        log.trimEnd().split("\n").slice(-30).join("\n")
      }`;
      // Retry with new ports only when a port we picked was taken meanwhile.
      const taken = [...(out.text + log).matchAll(/bind\(\) to [^ ]*:(\d+) failed \(98/g)].map((m) =>
        Number(m[1])
      );
      const bindRace = taken.some((port) => Object.values(ports).includes(port));
      if (bindRace && attempt < BIND_ATTEMPTS) continue;
      if (ownDir && !keep) await Deno.remove(dir, { recursive: true }).catch(() => {});
      throw new Error(`startNginxMail: nginx did not start in ${dir}: ${lastError}`);
    }
    let stopped = false;
    return {
      dir,
      ports,
      pid: child.pid,
      config,
      errorLog: () => readFrom(errorLogPath),
      output: () => out.text,
      signal: (sig: Deno.Signal) => child.kill(sig),
      async stop(): Promise<void> {
        if (stopped) return;
        stopped = true;
        await stop();
        if (ownDir && !keep) await Deno.remove(dir, { recursive: true }).catch(() => {});
      },
    };
  }
  throw new Error(`startNginxMail: unreachable: ${lastError}`);
}
