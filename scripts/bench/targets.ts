/**
 * What the load is sent to: Dovecot/Postfix directly, nginx's mail module (default and 64k
 * buffers, one worker) and mailproxy on Deno and on Bun. Each target has a port per service
 * (imap, imaps, pop3, smtp) or a reason why it cannot serve it yet ("n/a" in the table).
 * @module
 */

import { startNginxMail } from "../../tests/lab/nginx.ts";
import { freePort, waitForPort } from "../../tests/lab/ports.ts";
import { bunExecutable } from "../../tests/helpers/runtimes.ts";
import type { BenchLab } from "./lab.ts";
import { type Spawned, spawnProcess } from "./spawn.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** The services a workload can use. */
export type Service = "imap" | "imaps" | "pop3" | "smtp";

/** One thing under load. */
export interface Target {
  name: string;
  kind: "direct" | "nginx" | "mailproxy" | "floor";
  /** Ports of the services this target serves. */
  ports: Partial<Record<Service, number>>;
  /** Why a service is missing (shown as "n/a (reason)"). */
  missing: Partial<Record<Service, string>>;
  /** Root pids of the proxy (their trees are measured); empty for direct. */
  proxyRoots(): number[];
  stop(): Promise<void>;
}

/** The nginx buffer settings of the "64k" variants (both relay directions). */
export const BUFFERS_64K = { proxy_buffer: "64k", imap_client_buffer: "64k", smtp_client_buffer: "64k" };

/** Dovecot and Postfix as they are. */
export function directTarget(lab: BenchLab): Target {
  return {
    name: "direct",
    kind: "direct",
    ports: {
      imap: lab.dovecot.imapPort,
      imaps: lab.imapsPort,
      pop3: lab.dovecot.pop3Port,
      ...(lab.postfix ? { smtp: lab.postfix.smtpPort } : {}),
    },
    missing: lab.postfix ? {} : { smtp: lab.postfixMissing ?? "no Postfix" },
    proxyRoots: () => [],
    stop: () => Promise.resolve(),
  };
}

/** nginx mail, one worker, enough connections and files for 5 000 idle sessions. */
export async function nginxTarget(
  name: string,
  lab: BenchLab,
  opts: { buffers64k?: boolean; authUrl?: string; services?: Service[] } = {},
): Promise<Target> {
  const services = opts.services ?? ["imap", "imaps", "pop3", "smtp"];
  const blocks: Record<Service, string> = {
    imap: "server { listen 127.0.0.1:{{port:imap}}; protocol imap; }",
    imaps: `server { listen 127.0.0.1:{{port:imaps}} ssl; protocol imap; ` +
      `ssl_certificate ${lab.certPath}; ssl_certificate_key ${lab.keyPath}; }`,
    pop3: "server { listen 127.0.0.1:{{port:pop3}}; protocol pop3; }",
    smtp: "server { listen 127.0.0.1:{{port:smtp}}; protocol smtp; smtp_auth plain login; }",
  };
  const buffers = opts.buffers64k
    ? Object.entries(BUFFERS_64K).map(([k, v]) => `  ${k} ${v};`).join("\n")
    : "";
  const nginx = await startNginxMail({
    authHttp: opts.authUrl ?? lab.auth.url,
    servers: services.map((s) => `  ${blocks[s]}`).join("\n"),
    mailLevel: buffers,
    // 10 000 idle sessions take two connections each (client and backend).
    mainLevel: "worker_rlimit_nofile 50000;",
    events: "worker_connections 40000;",
  });
  const ports: Partial<Record<Service, number>> = {};
  for (const s of services) ports[s] = nginx.ports[s];
  const missing: Partial<Record<Service, string>> = {};
  if (services.includes("smtp") && !lab.postfix) missing.smtp = lab.postfixMissing ?? "no Postfix";
  return { name, kind: "nginx", ports, missing, proxyRoots: () => [nginx.pid], stop: () => nginx.stop() };
}

/** The V8 flags of `deno task start` / `deno task compile` (deno.json): measured as shipped. */
const DENO_FLAGS = ["--v8-flags=--max-semi-space-size=2"];

/**
 * One single-server `[[upstream]]` per protocol, named after it, holding the lab's backend:
 * with an auth service that answers `Auth-Upstream: <protocol>`, logins take the upstream
 * path (route store, HRW choice, health checks running) to the same backend as the fixed
 * target, so the two targets differ only by the routing.
 */
export function upstreamTables(lab: BenchLab): string {
  const pools: [string, number | undefined][] = [
    ["imap", lab.dovecot.imapPort],
    ["pop3", lab.dovecot.pop3Port],
    ["smtp", lab.postfix?.smtpPort],
  ];
  return pools.filter(([, port]) => port !== undefined).map(([name, port]) =>
    `[[upstream]]\nname = "${name}"\nprotocol = "${name}"\nserver = [{ address = "127.0.0.1:${port}" }]\n`
  ).join("\n");
}

/** Options of {@link mailproxyTarget}. */
export interface MailproxyTargetOptions {
  runtime: "deno" | "bun";
  buffers64k?: boolean;
  /** `worker_processes` (default 1). */
  workers?: number;
  authUrl?: string;
  services?: Service[];
  /** Extra runtime flags before the script (e.g. `--cpu-prof`). */
  runtimeFlags?: string[];
  /** Checkout to run (A/B comparisons of a change); default this one. */
  root?: string;
  /** Extra mail-level TOML lines (e.g. `auth_http_header = { … }`). */
  extra?: string;
  /** Extra TOML tables after the mail level (e.g. `[[upstream]]`). */
  tables?: string;
  log?: (line: string) => void;
}

function serverBlock(service: Service, port: number, lab: BenchLab): string {
  switch (service) {
    case "imap":
      return `[[server]]\nlisten = "127.0.0.1:${port}"\nprotocol = "imap"\n`;
    case "imaps":
      return `[[server]]\nlisten = "127.0.0.1:${port} ssl"\nprotocol = "imap"\n` +
        `ssl_certificate = "${lab.certPath}"\nssl_certificate_key = "${lab.keyPath}"\n`;
    case "pop3":
      return `[[server]]\nlisten = "127.0.0.1:${port}"\nprotocol = "pop3"\n`;
    case "smtp":
      return `[[server]]\nlisten = "127.0.0.1:${port}"\nprotocol = "smtp"\nsmtp_auth = ["plain", "login"]\n`;
  }
}

function mailLevel(authUrl: string, opts: MailproxyTargetOptions): string {
  let text = `auth_http = "${authUrl}"\ntimeout = "60s"\n${opts.extra ? `${opts.extra}\n` : ""}`;
  if (opts.workers && opts.workers > 1) text = `worker_processes = ${opts.workers}\n${text}`;
  if (opts.buffers64k) {
    for (const [k, v] of Object.entries(BUFFERS_64K)) text += `${k} = "${v}"\n`;
  }
  // The same level as the lab's nginx error_log (info): one line per session event each.
  return `${text}\n[log]\nlevel = "info"\n\n`;
}

/** Runs `mailproxy --check` on a config; undefined when it passes, else the first error line. */
async function checkConfig(file: string, root: string): Promise<string | undefined> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${root}main.ts`, "--check", "--config", file],
    cwd: root,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (out.success) return undefined;
  const text = new TextDecoder().decode(out.stderr).trim().split("\n")[0] ?? `exit ${out.code}`;
  return text.replace(/^[^:]*proxy[^:]*\.toml:\d+: /, "").slice(0, 120);
}

/**
 * mailproxy as a process of the given runtime, with one server per service that this build's
 * `--check` accepts (each service is checked alone first; refused ones become "n/a").
 */
export async function mailproxyTarget(
  name: string,
  lab: BenchLab,
  opts: MailproxyTargetOptions,
): Promise<Target> {
  const dir = `${lab.dir}/${name}`;
  const root = opts.root ? `${opts.root.replace(/\/$/, "")}/` : ROOT;
  await Deno.mkdir(dir, { recursive: true });
  const services = opts.services ?? ["imap", "imaps", "pop3", "smtp"];
  const authUrl = opts.authUrl ?? lab.auth.url;
  const head = mailLevel(authUrl, opts) + (opts.tables ? `${opts.tables}\n` : "");
  const ports: Partial<Record<Service, number>> = {};
  const missing: Partial<Record<Service, string>> = {};
  const blocks: string[] = [];
  for (const service of services) {
    if (service === "smtp" && !lab.postfix) {
      missing.smtp = lab.postfixMissing ?? "no Postfix";
      continue;
    }
    const port = await freePort();
    const block = serverBlock(service, port, lab);
    const probe = `${dir}/check_${service}.toml`;
    await Deno.writeTextFile(probe, head + block);
    const refused = await checkConfig(probe, root);
    if (refused) missing[service] = `mailproxy: ${refused}`;
    else {
      ports[service] = port;
      blocks.push(block);
    }
  }
  const config = `${dir}/proxy.toml`;
  await Deno.writeTextFile(config, head + blocks.join("\n"));
  const [cmd, args] = opts.runtime === "deno"
    ? [Deno.execPath(), ["run", "--allow-all", ...DENO_FLAGS, ...(opts.runtimeFlags ?? []), `${root}main.ts`]]
    : [bunExecutable(), ["run", ...(opts.runtimeFlags ?? []), `${root}main.ts`]];
  const proc: Spawned = spawnProcess(cmd, [...args, "--config", config], {
    logFile: `${dir}/proxy.log`,
    cwd: root,
  });
  try {
    for (const port of Object.values(ports)) {
      await Promise.race([
        waitForPort(port, 30_000),
        proc.status.then((s) => {
          throw new Error(`${name} exited (${s.code}); see ${dir}/proxy.log`);
        }),
      ]);
    }
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return {
    name,
    kind: "mailproxy",
    ports,
    missing,
    proxyRoots: () => [proc.pid],
    // A graceful stop drains sessions for up to 10 s; the benchmark has none left open.
    stop: () => proc.stop(15_000),
  };
}

/**
 * The login floor of a runtime (issue #19): floor_deno.ts / floor_bun.ts, one process per
 * protocol (IMAP, POP3) on the lab's auth service with a kept-alive connection. Its CPU per
 * login is what the runtime's sockets cost at least; mailproxy ÷ floor is mailproxy's own share.
 */
export async function floorTarget(name: string, lab: BenchLab, runtime: "deno" | "bun"): Promise<Target> {
  const authPort = new URL(lab.auth.url).port;
  const script = `${ROOT}scripts/bench/floor_${runtime}.ts`;
  const procs: Spawned[] = [];
  const ports: Partial<Record<Service, number>> = {};
  try {
    for (const service of ["imap", "pop3"] as const) {
      const port = await freePort();
      const [cmd, args] = runtime === "deno"
        ? [Deno.execPath(), ["run", "--allow-all", ...DENO_FLAGS, script]]
        : [bunExecutable(), ["run", script]];
      const proc = spawnProcess(cmd, [...args, String(port), authPort, service], {
        logFile: `${lab.dir}/${name}-${service}.log`,
        cwd: ROOT,
      });
      procs.push(proc);
      await waitForPort(port, 30_000);
      ports[service] = port;
    }
  } catch (err) {
    for (const p of procs) await p.stop();
    throw err;
  }
  return {
    name,
    kind: "floor",
    ports,
    missing: { imaps: "no TLS floor yet", smtp: "login floor only" },
    proxyRoots: () => procs.map((p) => p.pid),
    stop: async () => {
      for (const p of procs) await p.stop();
    },
  };
}
