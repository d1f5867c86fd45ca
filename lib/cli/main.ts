/**
 * The command line: `mailproxy [--config FILE] [--check]`, `mailproxy hash-password`,
 * `--version`, `--help`. User errors print one clear line each, never a stack trace.
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";
import { type Config, loadConfigFile } from "../config/mod.ts";
import type { LogOutputs } from "../log/mod.ts";
import { createLogOutputs, getLogger } from "../log/mod.ts";
import { Mailproxy } from "../server/mod.ts";
import { ownWorkerAdminSocket, planWorkers, workerIndex } from "../server/mod.ts";
import { runtimeTransport, runtimeVersion } from "../transport/mod.ts";
import { VERSION } from "../version.ts";
import { runCheck } from "./check.ts";
import { runConvert } from "./convert.ts";
import { runHashPassword } from "./hash_password.ts";
import { createTerminalIo } from "./terminal_io.ts";

const HELP = `mailproxy ${VERSION} — IMAP, POP3 and SMTP proxy

Usage:
  mailproxy [--config FILE]          run the proxy (default config: mailproxy.toml)
  mailproxy --check [--config FILE]  validate the config and print a summary (exit 1 on errors)
  mailproxy hash-password            read a password on stdin, print a hash for [[static_auth.user]]
  mailproxy convert NGINX_CONF       print the TOML equivalent of an nginx mail config
  mailproxy --version                print the version
  mailproxy --help                   this text

Signals: SIGHUP reloads the config (a bad one is refused, the old one keeps running);
SIGUSR1 reopens the log files (after logrotate moved them);
SIGTERM/SIGINT stop accepting, let sessions finish up to shutdown_timeout, then end them.
`;

/** Output channels, replaceable in tests. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

const stdio: CliIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

/** Runs the CLI; resolves with the exit code (the proxy itself resolves only when stopped). */
export async function main(argv: string[], io: CliIo = stdio): Promise<number> {
  if (argv[0] === "convert") return await runConvert(argv.slice(1), io);
  if (argv[0] === "hash-password") {
    return await runHashPassword(argv.slice(1), { ...createTerminalIo(), write: io.out, error: io.err });
  }
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: "string", short: "c", default: "mailproxy.toml" },
        check: { type: "boolean", short: "t", default: false },
        version: { type: "boolean", short: "v", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    io.err(`mailproxy: ${err instanceof Error ? err.message : String(err)}\nTry "mailproxy --help".\n`);
    return 2;
  }
  if (values.help) {
    io.out(HELP);
    return 0;
  }
  if (values.version) {
    io.out(`mailproxy ${VERSION} (${runtimeVersion()})\n`);
    return 0;
  }

  const loaded = await loadConfigFile(values.config!);
  if (!loaded.ok) {
    for (const line of loaded.errors) io.err(`${line}\n`);
    io.err(`mailproxy: configuration file ${values.config} test failed\n`);
    return 1;
  }
  const config = loaded.config;
  if (values.check) return await runCheck(config, io);

  const outputs = createLogOutputs();
  try {
    outputs.configure(config);
  } catch (err) {
    io.err(`mailproxy: error_log: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  const code = await run(config, outputs, io);
  await outputs.close();
  return code;
}

/** Runs the proxy with its logs set up; resolves with the exit code once it stopped. */
async function run(config: Config, outputs: LogOutputs, io: CliIo): Promise<number> {
  const log = getLogger(["mailproxy", "main"]);
  for (const w of config.warnings) log.warn("{warning}", { warning: w });
  // worker_processes: copies share the listening sockets (lib/server/workers.ts); only the
  // supervisor serves the admin API, and asks the copies over their private endpoints.
  const worker = workerIndex();
  const workers = planWorkers(config.worker_processes, {
    info: (message) => log.info("{message}", { message }),
    error: (message) => log.error("{message}", { message }),
  }, config.admin.listen !== null);
  const proxy = new Mailproxy(config, await runtimeTransport(), {
    sessionIdPrefix: worker > 0 ? `w${worker}-` : "",
    onReload: (c) => {
      try {
        outputs.configure(c);
      } catch (err) {
        log.error("reload: error_log: {error}; the previous log outputs stay", { error: String(err) });
      }
    },
    workers: workers ? () => workers.links() : undefined,
    publicAdmin: worker === 0,
    privateAdmin: ownWorkerAdminSocket() ?? undefined,
  });
  try {
    await proxy.start();
  } catch (err) {
    io.err(`mailproxy: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  log.info("mailproxy {version} ({runtime}) started{worker}", {
    version: VERSION,
    runtime: runtimeVersion(),
    worker: worker > 0 ? ` as worker ${worker}` : "",
  });
  workers?.start();
  return await new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: "SIGTERM" | "SIGINT") => {
      if (stopping) return;
      stopping = true;
      log.info("{signal}: stopping, draining sessions", { signal });
      const copies = workers?.stop(signal, config.shutdown_timeout + 5000);
      Promise.all([proxy.stop(), copies]).then(() => resolve(0), () => resolve(1));
    };
    process.on("SIGTERM", () => stop("SIGTERM"));
    process.on("SIGINT", () => stop("SIGINT"));
    // The reload logs its outcome itself (applied changes, or the errors that refused it).
    if (process.platform !== "win32") {
      // logrotate / `nginx -s reopen`: new lines go to a new file at each error_log path.
      process.on("SIGUSR1", () => {
        workers?.signal("SIGUSR1");
        outputs.reopen();
        log.info("SIGUSR1: log files reopened");
      });
      process.on("SIGHUP", () => {
        workers?.signal("SIGHUP");
        void proxy.reload();
      });
    }
  });
}
