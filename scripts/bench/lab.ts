/**
 * The benchmark's backends: a Dovecot tuned for logins (tests/lab with service_count = 100 and
 * process_min_avail = 4 from the lab, plus an IMAPS listener, no per-user connection limit and an
 * auth socket for Postfix), Postfix when the lab has it, a test CA and certificate, and the
 * auth_http service as its own process so its CPU can be measured.
 * @module
 */

import { type Dovecot, startDovecot } from "../../tests/lab/dovecot.ts";
import { freePort, waitForPort } from "../../tests/lab/ports.ts";
import { LineReader, type Spawned, spawnProcess } from "./spawn.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** Password of every benchmark user (bench0 … benchN-1). */
export const BENCH_PASSWORD = "benchpass";
/** Number of benchmark users (one per login client, so no per-user limits interfere). */
export const BENCH_USERS = 50;
/** Users whose INBOX holds the FETCH messages (one per FETCH client). */
export const FETCH_USERS = 8;
/** Sequence numbers of the FETCH messages in those INBOXes. */
export const FETCH_SEQ = { "1m": 1, "10m": 2 } as const;
/** The SMTP recipient (delivered to Postfix's discard transport). */
export const SMTP_RCPT = "alice@mail.test";

/** A running auth_http service process. */
export interface AuthProcess {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Backends of an auth service: `host:port` per protocol. */
export type AuthBackends = { imap?: string; pop3?: string; smtp?: string };

/** A running Postfix (when tests/lab/postfix.ts exists). */
export interface PostfixLike {
  smtpPort: number;
  dir: string;
  stop(): Promise<void>;
}

/** Everything behind the proxies. */
export interface BenchLab {
  dir: string;
  certPath: string;
  keyPath: string;
  caPath: string;
  dovecot: Dovecot;
  /** Dovecot's IMAPS port (a listener of our own on the lab's Dovecot). */
  imapsPort: number;
  /** Dovecot's master pid (its tree holds every login, imap and auth process). */
  dovecotPid(): number;
  postfix: PostfixLike | null;
  /** Why there is no Postfix, when there is none. */
  postfixMissing?: string;
  postfixPid(): number | undefined;
  auth: AuthProcess;
  stop(): Promise<void>;
}

function readPid(path: string): number | undefined {
  try {
    const pid = Number(Deno.readTextFileSync(path).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function run(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
}

/** A test CA and a certificate for 127.0.0.1 signed by it (rustls refuses a self-signed leaf). */
async function makeCertificates(dir: string): Promise<{ cert: string; key: string; ca: string }> {
  const ca = `${dir}/ca.pem`;
  const caKey = `${dir}/ca.key`;
  const key = `${dir}/key.pem`;
  const csr = `${dir}/cert.csr`;
  const cert = `${dir}/cert.pem`;
  const ext = `${dir}/cert.ext`;
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await run("openssl", [
    "req",
    "-x509",
    ...ec,
    "-keyout",
    caKey,
    "-out",
    ca,
    "-days",
    "30",
    "-subj",
    "/CN=bench CA",
  ]);
  await run("openssl", ["req", ...ec, "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1"]);
  await Deno.writeTextFile(ext, "subjectAltName = IP:127.0.0.1\nbasicConstraints = CA:FALSE\n");
  await run("openssl", [
    "x509",
    "-req",
    "-in",
    csr,
    "-CA",
    ca,
    "-CAkey",
    caKey,
    "-CAcreateserial",
    "-out",
    cert,
    "-days",
    "30",
    "-extfile",
    ext,
  ]);
  await Deno.chmod(key, 0o644);
  return { cert, key, ca };
}

/** A message of about `size` bytes of 76-character lines. */
export function bigMessage(size: number, subject: string): string {
  const head = `From: bench@bench.test\r\nTo: bench@bench.test\r\nSubject: ${subject}\r\n\r\n`;
  const line = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-abcdefghijkl\r\n";
  return head + line.repeat(Math.ceil((size - head.length) / line.length));
}

/**
 * Starts the auth service (tests/lab/auth_service.ts of `root`, default this checkout) as a Deno
 * process; resolves when it listens.
 */
export async function startAuthProcess(
  dir: string,
  name: string,
  backends: AuthBackends,
  root = ROOT,
  /** Extra command-line flags of the auth service (e.g. `--upstream`). */
  flags: string[] = [],
): Promise<AuthProcess> {
  const args = [
    "run",
    "-A",
    `${root}tests/lab/auth_service.ts`,
    "--port",
    String(await freePort()),
    "--no-record",
    ...flags,
  ];
  for (const [proto, addr] of Object.entries(backends)) if (addr) args.push(`--${proto}-backend`, addr);
  for (let i = 0; i < BENCH_USERS; i++) args.push("--user", `bench${i}:${BENCH_PASSWORD}`);
  const proc: Spawned = spawnProcess(Deno.execPath(), args, {
    pipeStdout: true,
    logFile: `${dir}/${name}.log`,
    cwd: ROOT,
  });
  const lines = new LineReader(proc.child.stdout);
  const url = await lines.next(30_000);
  if (!url?.startsWith("http://")) {
    await proc.stop();
    throw new Error(`auth service ${name} did not start: ${url ?? "no output"}`);
  }
  lines.drain();
  await waitForPort(Number(new URL(url).port), 10_000);
  return { url, pid: proc.pid, stop: () => proc.stop() };
}

/** Dovecot settings on top of the lab's (which already tunes login processes). */
function dovecotExtra(dir: string, imapsPort: number, cert: string, key: string): string {
  return `
# --- scripts/bench: IMAPS on a listener of its own, no per-user limit, SASL for Postfix ---
ssl = yes
ssl_cert = <${cert}
ssl_key = <${key}
service imap-login {
  inet_listener imaps_bench {
    address = 127.0.0.1
    port = ${imapsPort}
    ssl = yes
  }
}
service imap {
  service_count = 100
  process_min_avail = 4
}
service pop3 {
  service_count = 100
  process_min_avail = 4
}
protocol imap {
  mail_max_userip_connections = 10000
}
protocol pop3 {
  mail_max_userip_connections = 10000
}
service auth {
  unix_listener ${dir}/auth-postfix {
    mode = 0666
  }
}
`;
}

/** Imports tests/lab/postfix.ts if it exists (another issue adds it). */
async function loadPostfix(): Promise<
  ((opts: Record<string, unknown>) => Promise<PostfixLike>) | string
> {
  const path = `${ROOT}tests/lab/postfix.ts`;
  try {
    Deno.statSync(path);
  } catch {
    return "tests/lab/postfix.ts does not exist yet";
  }
  try {
    const mod = await import(path);
    if (typeof mod.startPostfix !== "function") return "tests/lab/postfix.ts has no startPostfix";
    return mod.startPostfix;
  } catch (err) {
    return `tests/lab/postfix.ts failed to load: ${err instanceof Error ? err.message : err}`;
  }
}

/** Brings up Dovecot, Postfix (if available) and the auth service under `dir`. */
export async function startBenchLab(dir: string, log: (line: string) => void): Promise<BenchLab> {
  const certs = await makeCertificates(dir);
  const dovecotDir = `${dir}/dovecot`;
  const imapsPort = await freePort();
  const users = Array.from(
    { length: BENCH_USERS },
    (_, i) => ({ name: `bench${i}`, password: BENCH_PASSWORD }),
  );
  log("starting Dovecot");
  const dovecot = await startDovecot({
    dir: dovecotDir,
    users: [...users, { name: "alice", password: "alicepass" }],
    extraConfig: dovecotExtra(dovecotDir, imapsPort, certs.cert, certs.key),
  });
  const stops: (() => Promise<void>)[] = [() => dovecot.stop()];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
  };
  try {
    await waitForPort(imapsPort, 10_000);
    const small = bigMessage(1 << 20, "one megabyte");
    const large = bigMessage(10 << 20, "ten megabytes");
    for (let i = 0; i < FETCH_USERS; i++) {
      dovecot.addMessage(`bench${i}`, small);
      dovecot.addMessage(`bench${i}`, large);
    }

    let postfix: PostfixLike | null = null;
    let postfixMissing: string | undefined;
    const startPostfix = await loadPostfix();
    if (typeof startPostfix === "string") postfixMissing = startPostfix;
    else {
      log("starting Postfix");
      try {
        postfix = await startPostfix({
          domain: "mail.test",
          mailboxes: ["alice"],
          dovecotSaslPath: `${dovecotDir}/auth-postfix`,
          // The proxy is measured, not delivery: accepted mail is dropped.
          extraMainCf: "virtual_transport = discard:\nsmtpd_peername_lookup = no\n",
        });
        stops.push(() => postfix!.stop());
      } catch (err) {
        postfixMissing = `Postfix did not start: ${String(err).split("\n")[0]}`;
      }
    }

    log("starting the auth service");
    const auth = await startAuthProcess(dir, "auth", {
      imap: `127.0.0.1:${dovecot.imapPort}`,
      pop3: `127.0.0.1:${dovecot.pop3Port}`,
      smtp: postfix ? `127.0.0.1:${postfix.smtpPort}` : undefined,
    });
    stops.push(() => auth.stop());
    return {
      dir,
      certPath: certs.cert,
      keyPath: certs.key,
      caPath: certs.ca,
      dovecot,
      imapsPort,
      dovecotPid: () => readPid(`${dovecotDir}/run/master.pid`) ?? 0,
      postfix,
      postfixMissing,
      postfixPid: () => (postfix ? readPid(`${postfix.dir}/queue/pid/master.pid`) : undefined),
      auth,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
