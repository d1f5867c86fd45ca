/**
 * The `$scrypt$ln=14,r=8,p=1$<salt>$<hash>` PHC string format (unpadded standard
 * base64): parsing with bounds and formatting, no hashing. It sits on the ground floor
 * because config validation (is this `password` a hash we understand?) and the static
 * auth provider (verify against it) both read it; lib/auth/password_hash.ts does the
 * scrypt work.
 * @module
 */

import { Buffer } from "node:buffer";

/** scrypt cost parameters: N = 2^ln, block size r, parallelism p. */
export interface ScryptParams {
  ln: number;
  r: number;
  p: number;
}

/** Bounds for parameters read from config, so a bad hash cannot exhaust memory or CPU. */
const MAX_LN = 20;
const MAX_R = 32;
const MAX_P = 16;
const MAX_MEMORY = 512 * 1024 * 1024;

/** The parts of a parsed PHC string. */
export interface ParsedHash {
  params: ScryptParams;
  salt: Uint8Array;
  hash: Uint8Array;
}

const B64 = /^[A-Za-z0-9+/]+$/;

/** Unpadded standard base64, the PHC spelling. */
function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64").replace(/=+$/, "");
}

/** Parses a `$scrypt$` PHC string; null when anything is off. */
export function parseScryptHash(phc: string): ParsedHash | null {
  const parts = phc.split("$");
  if (parts.length !== 5 || parts[0] !== "" || parts[1] !== "scrypt") return null;
  const [, , paramText, saltText, hashText] = parts;
  const params: Partial<ScryptParams> = {};
  for (const item of paramText.split(",")) {
    const m = /^(ln|r|p)=([1-9][0-9]{0,2})$/.exec(item);
    if (!m || params[m[1] as keyof ScryptParams] !== undefined) return null;
    params[m[1] as keyof ScryptParams] = Number(m[2]);
  }
  const { ln, r, p } = params;
  if (ln === undefined || r === undefined || p === undefined) return null;
  if (ln > MAX_LN || r > MAX_R || p > MAX_P || scryptMemory({ ln, r, p }) > MAX_MEMORY) return null;
  if (!B64.test(saltText) || !B64.test(hashText)) return null;
  const salt = new Uint8Array(Buffer.from(saltText, "base64"));
  const hash = new Uint8Array(Buffer.from(hashText, "base64"));
  if (salt.length < 8 || salt.length > 64 || hash.length < 16 || hash.length > 64) return null;
  // Reject non-canonical base64 (trailing bits) so one hash has one spelling.
  if (b64(salt) !== saltText || b64(hash) !== hashText) return null;
  return { params: { ln, r, p }, salt, hash };
}

/** The PHC string of a derived hash. */
export function formatScryptHash(params: ScryptParams, salt: Uint8Array, hash: Uint8Array): string {
  return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${b64(salt)}$${b64(hash)}`;
}

/** Whether `s` is a PHC string the static provider can verify against (for config validation). */
export function isPasswordHash(s: string): boolean {
  return parseScryptHash(s) !== null;
}

/** OpenSSL's scrypt memory check: 128·r·(N+2) for V plus 128·r·p for B. */
export function scryptMemory({ ln, r, p }: ScryptParams): number {
  return 128 * r * ((1 << ln) + 2) + 128 * r * p;
}
