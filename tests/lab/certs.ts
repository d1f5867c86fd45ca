/**
 * A throw-away PKI for TLS tests, made with the openssl CLI: a test CA, server certificates
 * (RSA and ECDSA) for `localhost`/127.0.0.1, a second name for SNI tests, client certificates
 * (good, revoked, signed by an intermediate, from an untrusted CA), a CRL, and an encrypted key
 * with its passphrase file. Every run generates new keys; nothing is checked in.
 * @module
 */

import { execFile } from "node:child_process";
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Paths (PEM files) of one generated test PKI. */
export interface TestPki {
  /** The directory holding everything. */
  dir: string;
  /** Root CA certificate (trust anchor for servers and clients). */
  ca: string;
  /** Intermediate CA (signed by `ca`) certificate. */
  intermediate: string;
  /** RSA server certificate for localhost / 127.0.0.1 and its key. */
  serverRsa: { cert: string; key: string };
  /** ECDSA (P-256) server certificate for localhost / 127.0.0.1 and its key. */
  serverEc: { cert: string; key: string };
  /** RSA server certificate for `other.test` (SNI tests). */
  other: { cert: string; key: string };
  /** RSA server certificate whose key is encrypted; the passphrase is the 2nd line of `passwordFile`. */
  encrypted: { cert: string; key: string; passwordFile: string };
  /** Client certificate CN=alice (signed by `ca`). */
  client: { cert: string; key: string };
  /** Client certificate CN=mallory, revoked in `crl`. */
  revoked: { cert: string; key: string };
  /** Client certificate CN=carol signed by `intermediate`; `chain` = cert + intermediate. */
  chained: { cert: string; key: string; chain: string };
  /** Client certificate CN=eve signed by a CA nobody trusts. */
  untrusted: { cert: string; key: string };
  /** CRL of `ca` revoking `revoked`. */
  crl: string;
  /** Removes the directory. */
  remove(): Promise<void>;
}

/** Runs the openssl CLI in `dir` (node:child_process, so the unit tests also run under Bun). */
function openssl(dir: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile("openssl", args, { cwd: dir }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`openssl ${args.join(" ")} failed: ${stderr}`));
      else resolve();
    });
  });
}

const SERVER_EXT = "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n" +
  "extendedKeyUsage=serverAuth\n";
const CLIENT_EXT = "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n";
const CA_EXT = "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n" +
  "subjectKeyIdentifier=hash\n";

/** Generates a fresh PKI in a new temp directory (or `dir`). Takes about a second. */
export async function makeTestPki(dir?: string): Promise<TestPki> {
  const root = dir ?? await mkdtemp(join(tmpdir(), "mailproxy-pki-"));
  await mkdir(root, { recursive: true });
  const p = (name: string) => `${root}/${name}`;
  const write = (name: string, text: string) => writeFile(p(name), text);

  const rsaKey = (name: string) =>
    openssl(root, ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", name]);
  const ecKey = (name: string) =>
    openssl(root, ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", name]);
  const selfSigned = async (name: string, cn: string) => {
    await openssl(root, [
      "req",
      "-x509",
      "-new",
      "-key",
      `${name}.key`,
      "-subj",
      `/O=mailproxy test/CN=${cn}`,
      "-days",
      "2",
      "-sha256",
      "-out",
      `${name}.pem`,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ]);
  };
  let serial = 0x1000;
  const sign = async (name: string, subject: string, ca: string, ext: string) => {
    await openssl(root, ["req", "-new", "-key", `${name}.key`, "-subj", subject, "-out", `${name}.csr`]);
    await write(`${name}.ext`, ext);
    await openssl(root, [
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      `${ca}.pem`,
      "-CAkey",
      `${ca}.key`,
      "-set_serial",
      String(++serial),
      "-days",
      "2",
      "-sha256",
      "-extfile",
      `${name}.ext`,
      "-out",
      `${name}.pem`,
    ]);
  };
  const localhostExt = SERVER_EXT + "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n";

  await Promise.all([rsaKey("ca.key"), rsaKey("evil-ca.key"), ecKey("intermediate.key")]);
  await Promise.all([selfSigned("ca", "Test Root CA"), selfSigned("evil-ca", "Untrusted CA")]);
  await sign("intermediate", "/O=mailproxy test/CN=Test Intermediate CA", "ca", CA_EXT);

  await Promise.all([
    rsaKey("server-rsa.key"),
    ecKey("server-ec.key"),
    rsaKey("other.key"),
    rsaKey("encrypted-plain.key"),
    ecKey("client.key"),
    ecKey("revoked.key"),
    ecKey("chained.key"),
    ecKey("untrusted.key"),
  ]);
  await sign("server-rsa", "/O=mailproxy test/CN=localhost", "ca", localhostExt);
  await sign("server-ec", "/O=mailproxy test/CN=localhost", "ca", localhostExt);
  await sign(
    "other",
    "/O=mailproxy test/CN=other.test",
    "ca",
    SERVER_EXT + "subjectAltName=DNS:other.test\n",
  );
  await copyFile(p("encrypted-plain.key"), p("encrypted.key"));
  await sign("encrypted", "/O=mailproxy test/CN=localhost", "ca", localhostExt);
  await write("passphrases", "not-this-one\nsecret pass phrase\n");
  await openssl(root, [
    "pkey",
    "-in",
    "encrypted-plain.key",
    "-aes256",
    "-passout",
    "pass:secret pass phrase",
    "-out",
    "encrypted.key",
  ]);
  await unlink(p("encrypted-plain.key"));

  await sign("client", "/C=XX/O=mailproxy test/CN=alice", "ca", CLIENT_EXT);
  await sign("revoked", "/O=mailproxy test/CN=mallory", "ca", CLIENT_EXT);
  await sign("chained", "/O=mailproxy test/CN=carol", "intermediate", CLIENT_EXT);
  await sign("untrusted", "/O=mailproxy test/CN=eve", "evil-ca", CLIENT_EXT);
  await writeFile(
    p("chained-chain.pem"),
    (await readFile(p("chained.pem"), "utf8")) + (await readFile(p("intermediate.pem"), "utf8")),
  );

  // A minimal `openssl ca` database, only to produce a CRL revoking mallory.
  await write(
    "ca.cnf",
    `[ca]\ndefault_ca = test\n[test]\ndatabase = ${root}/index.txt\n` +
      `crlnumber = ${root}/crlnumber\ndefault_md = sha256\ndefault_crl_days = 2\n`,
  );
  await write("index.txt", "");
  await write("crlnumber", "01\n");
  await openssl(root, [
    "ca",
    "-config",
    "ca.cnf",
    "-keyfile",
    "ca.key",
    "-cert",
    "ca.pem",
    "-revoke",
    "revoked.pem",
  ]);
  await openssl(root, [
    "ca",
    "-config",
    "ca.cnf",
    "-keyfile",
    "ca.key",
    "-cert",
    "ca.pem",
    "-gencrl",
    "-out",
    "crl.pem",
  ]);

  // Readable by Dovecot's and nginx's unprivileged processes too (throw-away keys).
  await chmod(root, 0o755);
  for (const name of await readdir(root)) {
    if (name.endsWith(".key")) await chmod(p(name), 0o644);
  }
  const pair = (name: string) => ({ cert: p(`${name}.pem`), key: p(`${name}.key`) });
  return {
    dir: root,
    ca: p("ca.pem"),
    intermediate: p("intermediate.pem"),
    serverRsa: pair("server-rsa"),
    serverEc: pair("server-ec"),
    other: pair("other"),
    encrypted: { ...pair("encrypted"), passwordFile: p("passphrases") },
    client: pair("client"),
    revoked: pair("revoked"),
    chained: { ...pair("chained"), chain: p("chained-chain.pem") },
    untrusted: pair("untrusted"),
    crl: p("crl.pem"),
    remove: () => rm(root, { recursive: true, force: true }),
  };
}

let shared: Promise<TestPki> | undefined;

/**
 * One PKI per test process (generation costs about a second); test files remove it in their
 * teardown with {@link removeTestPki} (deno test fires no exit event to hook instead).
 */
export function testPki(): Promise<TestPki> {
  shared ??= makeTestPki();
  return shared;
}

/** Removes the shared PKI; the next {@link testPki} makes a new one. */
export async function removeTestPki(): Promise<void> {
  const pki = shared;
  shared = undefined;
  if (pki) await (await pki).remove();
}
