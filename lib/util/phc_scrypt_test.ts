import assert from "node:assert/strict";
import { formatScryptHash, isPasswordHash, parseScryptHash, scryptMemory } from "./phc_scrypt.ts";

Deno.test("phc_scrypt: format and parse round-trip", () => {
  const salt = new Uint8Array(16).fill(7);
  const hash = new Uint8Array(32).fill(9);
  const phc = formatScryptHash({ ln: 14, r: 8, p: 1 }, salt, hash);
  assert.match(phc, /^\$scrypt\$ln=14,r=8,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
  assert.deepEqual(parseScryptHash(phc), { params: { ln: 14, r: 8, p: 1 }, salt, hash });
  assert.equal(isPasswordHash(phc), true);
});

Deno.test("phc_scrypt: refuses what would exhaust memory or is spelled two ways", () => {
  const salt = "BwcHBwcHBwcHBwcHBwcHBw";
  const hash = "CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk";
  assert.equal(isPasswordHash(`$scrypt$ln=14,r=8,p=1$${salt}$${hash}`), true);
  assert.equal(isPasswordHash(`$scrypt$ln=21,r=8,p=1$${salt}$${hash}`), false);
  assert.equal(isPasswordHash(`$scrypt$ln=14,r=8,p=1,p=1$${salt}$${hash}`), false);
  assert.equal(isPasswordHash(`$scrypt$ln=14,r=8,p=1$${salt}=$${hash}`), false);
  assert.equal(isPasswordHash("alicepass"), false);
  assert.equal(scryptMemory({ ln: 14, r: 8, p: 1 }), 128 * 8 * ((1 << 14) + 2) + 128 * 8);
});
