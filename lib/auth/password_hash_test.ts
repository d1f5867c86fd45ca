import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import {
  DEFAULT_SCRYPT_PARAMS,
  hashPassword,
  isPasswordHash,
  VerifyCache,
  verifyPassword,
} from "./password_hash.ts";
import { toBinary, utf8 } from "../util/bytes.ts";

/** Cheap parameters keep the suite fast; the defaults get one round-trip of their own. */
const FAST = { params: { ln: 4, r: 8, p: 1 } };

Deno.test("password hash: PHC format with default parameters round-trips", async () => {
  const phc = await hashPassword("correct horse");
  assert.match(phc, /^\$scrypt\$ln=14,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
  assert.deepEqual(DEFAULT_SCRYPT_PARAMS, { ln: 14, r: 8, p: 1 });
  assert.equal(isPasswordHash(phc), true);
  assert.equal(await verifyPassword("correct horse", phc, { cache: null }), true);
  assert.equal(await verifyPassword("correct horsE", phc, { cache: null }), false);
});

Deno.test("password hash: fresh salt per hash", async () => {
  assert.notEqual(await hashPassword("x", FAST), await hashPassword("x", FAST));
});

Deno.test("password hash: RFC 7914 test vector (password/NaCl, N=1024, r=8, p=16)", async () => {
  const phc = await hashPassword("password", {
    params: { ln: 10, r: 8, p: 16 },
    salt: new TextEncoder().encode("NaCl"),
  });
  // The RFC's 64-byte output starts with these 32 bytes (PBKDF2 output is a prefix).
  const expected = Buffer.from("fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162", "hex");
  assert.equal(phc, `$scrypt$ln=10,r=8,p=16$TmFDbA$${expected.toString("base64").replace(/=+$/, "")}`);
});

Deno.test("password hash: the client's UTF-8 bytes match a hash made from text", async () => {
  const phc = await hashPassword("pässwörd €", FAST);
  assert.equal(await verifyPassword(toBinary(utf8("pässwörd €")), phc, { cache: null }), true);
  // Latin-1 bytes of the same text are a different password.
  assert.equal(await verifyPassword("pässwörd", phc, { cache: null }), false);
});

Deno.test("password hash: malformed or foreign hashes never verify", async () => {
  const good = await hashPassword("pw", FAST);
  const [, , params, salt, hash] = good.split("$");
  const bad = [
    "",
    "pw",
    "{PLAIN}pw",
    "$2y$10$abcdefghijklmnopqrstuu5NmQfEpr0UR8b7Qn5Q2iFfNrJ0CyLuO",
    "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
    `$scrypt$${params}$${salt}`,
    `$scrypt$${params}$${salt}$${hash}$`,
    `$scrypt$ln=4,r=8$${salt}$${hash}`,
    `$scrypt$ln=4,r=8,p=1,p=1$${salt}$${hash}`,
    `$scrypt$ln=4,r=8,p=0$${salt}$${hash}`,
    `$scrypt$ln=40,r=8,p=1$${salt}$${hash}`,
    `$scrypt$ln=20,r=32,p=1$${salt}$${hash}`,
    `$scrypt$${params}$${salt}=$${hash}`,
    `$scrypt$${params}$${salt}$${hash}==`,
    `$scrypt$${params}$*${salt}$${hash}`,
    `$scrypt$${params}$c2FsdA$${hash}`,
  ];
  for (const phc of bad) {
    assert.equal(isPasswordHash(phc), false, phc);
    assert.equal(await verifyPassword("pw", phc, { cache: null }), false, phc);
  }
  assert.equal(isPasswordHash(good), true);
});

Deno.test("verify cache: successes only, bounded, keyed by hash and password", async () => {
  const cache = new VerifyCache(2);
  const a = await hashPassword("a", FAST);
  const b = await hashPassword("b", FAST);
  const c = await hashPassword("c", FAST);
  assert.equal(await verifyPassword("wrong", a, { cache }), false);
  assert.equal(cache.size, 0);
  assert.equal(await verifyPassword("a", a, { cache }), true);
  assert.equal(await verifyPassword("b", b, { cache }), true);
  assert.equal(cache.size, 2);
  // A hit answers from the cache; the wrong password for a cached hash still fails.
  assert.equal(cache.has(VerifyCache.key(a, utf8("a"))), true);
  assert.equal(await verifyPassword("b", a, { cache }), false);
  // "a" was used last, so adding "c" evicts "b".
  assert.equal(await verifyPassword("c", c, { cache }), true);
  assert.equal(cache.size, 2);
  assert.equal(cache.has(VerifyCache.key(b, utf8("b"))), false);
  assert.equal(cache.has(VerifyCache.key(a, utf8("a"))), true);
});

Deno.test("verify cache: a hit skips scrypt", async () => {
  const cache = new VerifyCache();
  const phc = await hashPassword("slow", { params: { ln: 15, r: 8, p: 1 } });
  assert.equal(await verifyPassword("slow", phc, { cache }), true);
  const started = performance.now();
  assert.equal(await verifyPassword("slow", phc, { cache }), true);
  assert.ok(performance.now() - started < 20);
});
