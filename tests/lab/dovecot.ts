/**
 * A private Dovecot instance (IMAP, POP3, LMTP, optionally ManageSieve) on 127.0.0.1 for integration tests, the demo and
 * the benchmarks. Each instance lives in its own directory with its own dovecot.conf, base_dir,
 * state_dir, log and maildirs, so several instances can run at once.
 * @module
 */

import { freePort, readGreeting, waitForPort } from "./ports.ts";

/** A lab mail user: login name and plaintext password. */
export interface LabUser {
  /** Login name (lower case; Dovecot lower-cases logins with `auth_username_format = %Ln`). */
  name: string;
  /** Plaintext password (stored as `{PLAIN}` in the passwd-file). */
  password: string;
}

/** Options of {@linkcode startDovecot}. */
export interface DovecotOptions {
  /** Users of the passwd-file passdb. Default {@linkcode DEFAULT_DOVECOT_USERS} (alice/alicepass, bob/bobpass, waituser/waitpass). */
  users?: LabUser[];
  /** Directory for the instance (created if missing, kept on stop). Default: a new temp dir, removed on stop. */
  dir?: string;
  /** Fixed ports (the demo uses the ones config.example.toml names); default: free ports. */
  ports?: { imap?: number; pop3?: number; lmtp?: number };
  /** Extra dovecot.conf text appended at the end (e.g. benchmark tuning). */
  extraConfig?: string;
  /**
   * Serve TLS with this certificate and key (PEM files, e.g. from tests/lab/certs.ts): an IMAPS
   * listener on a free port (`imapsPort`), and STARTTLS on the plain IMAP/POP3 ports.
   */
  tls?: { cert: string; key: string };
  /**
   * Add an IMAP listener that expects a PROXY protocol header (`haproxy = yes`, port
   * `imapHaproxyPort`), trusting 127.0.0.0/8 (`haproxy_trusted_networks`).
   */
  haproxy?: boolean;
  /**
   * Add ManageSieve (Pigeonhole's managesieved, RFC 5804) on a free port (`sievePort`), with
   * STARTTLS when `tls` is set. Scripts live in `<home>/sieve/`, the active one is linked
   * from `<home>/.dovecot.sieve` (see {@linkcode Dovecot.sieveDir}).
   */
  sieve?: boolean;
  /** Keep the temp dir after stop (also when the environment sets MAILPROXY_LAB_KEEP=1). */
  keepDir?: boolean;
  /** How long to wait for the listeners, in ms. Default 10 000. */
  startTimeoutMs?: number;
}

/** A running private Dovecot instance. */
export interface Dovecot {
  /** IMAP port (plain, on 127.0.0.1). */
  imapPort: number;
  /** POP3 port (plain, on 127.0.0.1). */
  pop3Port: number;
  /** LMTP port (on 127.0.0.1), for delivery from Postfix. */
  lmtpPort: number;
  /** IMAPS port (127.0.0.1), with the `tls` option. */
  imapsPort?: number;
  /** IMAP port expecting a PROXY header, with the `haproxy` option. */
  imapHaproxyPort?: number;
  /** ManageSieve port (plain with STARTTLS when `tls`, on 127.0.0.1), with the `sieve` option. */
  sievePort?: number;
  /** A user's Sieve script directory (`<dir>/mail/<user>/sieve`), with the `sieve` option. */
  sieveDir(user: string): string;
  /** A user's active-script link (`<dir>/mail/<user>/.dovecot.sieve`), with the `sieve` option. */
  sieveActiveLink(user: string): string;
  /** The instance directory (config, logs, run/, state/, mail/). */
  dir: string;
  /** The users this instance knows. */
  users: LabUser[];
  /** Path of a user's Maildir (`<dir>/mail/<user>/Maildir`). */
  maildir(user: string): string;
  /** Writes a message straight into the user's Maildir/new (via tmp/ and rename), owned by vmail. */
  addMessage(user: string, rfc822: string): void;
  /** Dovecot's log (log_path) so far. */
  log(): string;
  /** Stops the master (SIGTERM to the pid in base_dir/master.pid) and waits for it to exit. */
  stop(): Promise<void>;
}

/** The system user that owns all maildirs (static userdb). */
export const VMAIL_USER = "vmail";

const DOVECOT = "/usr/sbin/dovecot";
/**
 * Default users: alice and bob, plus `waituser` so the auth service's WAIT-then-OK user can really
 * log in to the backend (the auth service's `renamed` user maps to alice).
 */
export const DEFAULT_DOVECOT_USERS: readonly LabUser[] = [
  { name: "alice", password: "alicepass" },
  { name: "bob", password: "bobpass" },
  { name: "waituser", password: "waitpass" },
];
const BIND_ATTEMPTS = 3;

let vmailIds: { uid: number; gid: number } | undefined;

function lookupPasswd(name: string): { uid: number; gid: number } | undefined {
  for (const line of Deno.readTextFileSync("/etc/passwd").split("\n")) {
    const fields = line.split(":");
    if (fields[0] === name && fields.length >= 4) {
      return { uid: Number(fields[2]), gid: Number(fields[3]) };
    }
  }
  return undefined;
}

/** Returns uid/gid of the `vmail` system user, creating the user (useradd) when it is missing. */
export async function ensureVmailUser(): Promise<{ uid: number; gid: number }> {
  if (vmailIds) return vmailIds;
  let ids = lookupPasswd(VMAIL_USER);
  if (!ids) {
    const out = await new Deno.Command("useradd", {
      args: [
        "--system",
        "--user-group",
        "--no-create-home",
        "--home-dir",
        "/nonexistent",
        "--shell",
        "/usr/sbin/nologin",
        VMAIL_USER,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    ids = lookupPasswd(VMAIL_USER); // exit code 9 = created meanwhile by a parallel test
    if (!ids) {
      throw new Error(
        `useradd ${VMAIL_USER} failed (exit ${out.code}): ${new TextDecoder().decode(out.stderr)}`,
      );
    }
  }
  vmailIds = ids;
  return ids;
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

function lastLines(text: string, lines = 30): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

/** Polls the master pid file; `exited` settles when the master has died (to stop waiting early). */
function watchMaster(pidPath: string): { exited: Promise<string>; cancel(): void } {
  let timer: ReturnType<typeof setInterval> | undefined;
  const exited = new Promise<string>((resolve) => {
    timer = setInterval(() => {
      const pid = readPid(pidPath);
      if (pid !== undefined && processGone(pid)) {
        clearInterval(timer);
        resolve(`dovecot master ${pid} exited`);
      }
    }, 50);
  });
  return { exited, cancel: () => clearInterval(timer) };
}

function processGone(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

/** pid → kernel start time (field 22 of /proc/PID/stat), to recognise the same process later. */
function startTime(pid: number): string | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/** The children of `pid` (with their start times), from /proc. */
function childrenOf(pid: number): Map<number, string> {
  const children = new Map<number, string>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) === pid) children.set(Number(entry.name), fields[19]);
    } catch { /* exited meanwhile */ }
  }
  return children;
}

async function waitGone(pids: number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some((pid) => !processGone(pid))) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

/**
 * SIGTERM to the master and wait for it (it normally exits after ~1.1 s). A master stopped right
 * after startup can wait ~6 s for children stuck in a stats handshake: after `graceMs` the master
 * and the children it had are SIGKILLed (each only if it is still the same process).
 */
async function killAndWait(pid: number, graceMs = 2500): Promise<void> {
  if (processGone(pid)) return;
  const children = childrenOf(pid);
  try {
    Deno.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  if (await waitGone([pid], graceMs)) return;
  for (const [child, started] of [[pid, startTime(pid)] as const, ...children]) {
    if (started !== undefined && startTime(child) === started) {
      try {
        Deno.kill(child, "SIGKILL");
      } catch { /* gone */ }
    }
  }
  await waitGone([pid, ...children.keys()], 2000);
}

function readPid(path: string): number | undefined {
  try {
    const pid = Number(Deno.readTextFileSync(path).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

interface Ports {
  imap: number;
  pop3: number;
  imaps?: number;
  imapHaproxy?: number;
  sieve?: number;
  lmtp: number;
}

function renderConfig(
  dir: string,
  instance: string,
  ports: Ports,
  extra: string,
  tls?: { cert: string; key: string },
): string {
  const ssl = tls ? `ssl = yes\nssl_cert = <${tls.cert}\nssl_key = <${tls.key}` : "ssl = no";
  const imaps = ports.imaps ? `address = 127.0.0.1\n    port = ${ports.imaps}\n    ssl = yes` : "port = 0";
  const haproxy = ports.imapHaproxy
    ? `  inet_listener imap_haproxy {\n    address = 127.0.0.1\n    port = ${ports.imapHaproxy}\n    haproxy = yes\n  }\n`
    : "";
  const haproxyTrust = ports.imapHaproxy ? "haproxy_trusted_networks = 127.0.0.0/8\n" : "";
  const sieve = ports.sieve
    ? `service managesieve-login {\n  inet_listener sieve {\n    address = 127.0.0.1\n    port = ${ports.sieve}\n  }\n}\n` +
      `plugin {\n  sieve = file:~/sieve;active=~/.dovecot.sieve\n}\n`
    : "";
  return `# Generated by tests/lab/dovecot.ts: a private loopback instance.
base_dir = ${dir}/run
state_dir = ${dir}/state
instance_name = ${instance}
log_path = ${dir}/dovecot.log
listen = 127.0.0.1
protocols = imap pop3 lmtp${ports.sieve ? " sieve" : ""}

# TLS only with the tls option (IMAPS listener, STARTTLS on the plain ports).
${ssl}
${haproxyTrust}
disable_plaintext_auth = no
auth_mechanisms = plain login cram-md5
# Failed logins: no 2 s delay. 2.3.19 still answers failures on its 500 ms failure-queue timer
# (so a failed login takes up to 0.5 s); the growing per-IP penalty is off (anvil socket below).
auth_failure_delay = 0
auth_username_format = %Ln
# vmail is a system user (uid < 500 possible).
first_valid_uid = 1
default_internal_user = dovecot
default_login_user = dovenull
mail_location = maildir:~/Maildir
mail_fsync = never
postmaster_address = postmaster@localhost

passdb {
  driver = passwd-file
  args = scheme=PLAIN ${dir}/passwd
}
userdb {
  driver = static
  args = uid=${VMAIL_USER} gid=${VMAIL_USER} home=${dir}/mail/%u
}

# Many logins per login process and a few ready ones: ~2 300 logins/s instead of ~350.
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${ports.imap}
  }
  inet_listener imaps {
    ${imaps}
  }
${haproxy}
  service_count = 100
  process_min_avail = 4
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = ${ports.pop3}
  }
  inet_listener pop3s {
    port = 0
  }
  service_count = 100
  process_min_avail = 4
}
# Auth penalty off: auth cannot connect to this socket, so it never delays logins per IP.
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = ${ports.lmtp}
  }
}
${sieve}${extra}
`;
}

/**
 * Starts a private Dovecot (`dovecot -c <dir>/dovecot.conf`) with IMAP, POP3 and LMTP on free
 * 127.0.0.1 ports and resolves when all three greet. Retries with new ports when one was taken
 * meanwhile; otherwise throws with Dovecot's stderr and the tail of its log.
 */
export async function startDovecot(opts: DovecotOptions = {}): Promise<Dovecot> {
  const users = opts.users ?? [...DEFAULT_DOVECOT_USERS];
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? await Deno.makeTempDir({ prefix: "mailproxy-dovecot-" });
  const keep = opts.keepDir || Deno.env.get("MAILPROXY_LAB_KEEP") === "1";
  const vmail = await ensureVmailUser();

  // Dovecot's unprivileged processes (dovenull, dovecot, vmail) must traverse the dir.
  await Deno.mkdir(dir, { recursive: true });
  await Deno.chmod(dir, 0o755);
  await Deno.mkdir(`${dir}/mail`, { recursive: true });
  await Deno.chown(`${dir}/mail`, vmail.uid, vmail.gid);
  await Deno.writeTextFile(
    `${dir}/passwd`,
    users.map((u) => `${u.name}:{PLAIN}${u.password}::::::\n`).join(""),
    { mode: 0o644 },
  );
  const logPath = `${dir}/dovecot.log`;
  const stderrPath = `${dir}/dovecot.stderr`;
  const pidPath = `${dir}/run/master.pid`;
  const confPath = `${dir}/dovecot.conf`;
  const instance = `mailproxy-lab-${dir.split("/").pop()}`;

  let ports: Ports | undefined;
  let lastError = "";
  for (let attempt = 1; attempt <= BIND_ATTEMPTS && !ports; attempt++) {
    const candidate = {
      imap: opts.ports?.imap ?? await freePort(),
      pop3: opts.ports?.pop3 ?? await freePort(),
      lmtp: opts.ports?.lmtp ?? await freePort(),
      imaps: opts.tls ? await freePort() : undefined,
      imapHaproxy: opts.haproxy ? await freePort() : undefined,
      sieve: opts.sieve ? await freePort() : undefined,
    };
    await Deno.writeTextFile(
      confPath,
      renderConfig(dir, instance, candidate, opts.extraConfig ?? "", opts.tls),
    );
    const logOffset = fileSize(logPath);
    const stderrOffset = fileSize(stderrPath);
    // The master daemonises but keeps stderr open: send it to a file, or output() never ends.
    const result = await new Deno.Command("/bin/sh", {
      args: ["-c", `exec "$0" -c "$1" </dev/null >>"$2" 2>&1`, DOVECOT, confPath, stderrPath],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
    let failure = result.success ? undefined : `dovecot exited with code ${result.code}`;
    if (!failure) {
      const master = watchMaster(pidPath);
      try {
        const timeoutMs = opts.startTimeoutMs ?? 10000;
        const extraPorts = [candidate.imaps, candidate.imapHaproxy, candidate.sieve].filter((
          p,
        ): p is number => p !== undefined);
        for (const port of [candidate.imap, candidate.pop3, candidate.lmtp, ...extraPorts]) {
          await waitForPort(port, timeoutMs, master.exited);
        }
        // Accepting is not serving: wait for real greetings from the login processes and LMTP
        // (stopping a master whose children are still starting takes ~6 s).
        const greetings: [number, string][] = [
          [candidate.imap, "* OK"],
          [candidate.pop3, "+OK"],
          [candidate.lmtp, "220 "],
          ...(candidate.sieve ? [[candidate.sieve, '"IMPLEMENTATION"'] as [number, string]] : []),
        ];
        for (const [port, want] of greetings) {
          const greeting = await readGreeting(port, timeoutMs);
          if (!greeting.startsWith(want)) {
            throw new Error(`unexpected greeting on ${port}: ${JSON.stringify(greeting)}`);
          }
        }
        ports = candidate;
      } catch (err) {
        failure = String(err);
        const pid = readPid(pidPath);
        if (pid !== undefined) await killAndWait(pid);
      } finally {
        master.cancel();
      }
    }
    if (failure) {
      const log = readFrom(logPath, logOffset);
      const stderr = readFrom(stderrPath, stderrOffset);
      lastError = `${failure}\n--- dovecot stderr ---\n${lastLines(stderr)}\n--- ${logPath} ---\n${
        lastLines(log)
      }`;
      if (!/Address already in use/.test(log + stderr)) break;
    }
  }
  if (!ports) {
    if (ownDir && !keep) await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw new Error(`startDovecot: Dovecot did not start in ${dir}: ${lastError}`);
  }

  const maildir = (user: string) => `${dir}/mail/${user}/Maildir`;
  let counter = 0;
  let stopped = false;
  return {
    imapPort: ports.imap,
    pop3Port: ports.pop3,
    lmtpPort: ports.lmtp,
    imapsPort: ports.imaps,
    imapHaproxyPort: ports.imapHaproxy,
    sievePort: ports.sieve,
    sieveDir: (user: string) => `${dir}/mail/${user}/sieve`,
    sieveActiveLink: (user: string) => `${dir}/mail/${user}/.dovecot.sieve`,
    dir,
    users,
    maildir,
    addMessage(user: string, rfc822: string): void {
      const home = `${dir}/mail/${user}`;
      const md = maildir(user);
      for (const d of [home, md, `${md}/cur`, `${md}/new`, `${md}/tmp`]) {
        try {
          Deno.mkdirSync(d, { mode: 0o700 });
          Deno.chownSync(d, vmail.uid, vmail.gid);
        } catch (err) {
          if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
        }
      }
      const now = Date.now();
      const name = `${Math.floor(now / 1000)}.M${(now % 1000) * 1000}P${Deno.pid}Q${++counter}.mailproxy-lab`;
      Deno.writeTextFileSync(`${md}/tmp/${name}`, rfc822, { mode: 0o600 });
      Deno.chownSync(`${md}/tmp/${name}`, vmail.uid, vmail.gid);
      Deno.renameSync(`${md}/tmp/${name}`, `${md}/new/${name}`);
    },
    log: () => readFrom(logPath),
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      const pid = readPid(pidPath);
      if (pid !== undefined) await killAndWait(pid);
      if (ownDir && !keep) await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
