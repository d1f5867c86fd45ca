/**
 * Base64 for SASL exchanges, read the way nginx's mail module reads it (spec §4.0.6)
 * so clients that nginx accepts are accepted here too: decoding stops at the first
 * `=`, padding is optional, and only a length ≡ 1 (mod 4) or a character outside the
 * standard alphabet before the `=` is an error. Works on binary strings (one char per
 * byte), the form protocol arguments and credentials travel in.
 * @module
 */

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Byte → 6-bit value, or -1 for bytes outside the alphabet. */
const VALUES: Int8Array = (() => {
  const table = new Int8Array(256).fill(-1);
  for (let i = 0; i < ALPHABET.length; i++) table[ALPHABET.charCodeAt(i)] = i;
  return table;
})();

/**
 * Decodes base64 leniently like nginx's `ngx_decode_base64`. Returns the decoded
 * binary string, or null when the text is not acceptable. Never throws.
 */
export function decodeBase64Lenient(text: string): string | null {
  let len = 0;
  while (len < text.length) {
    const code = text.charCodeAt(len);
    if (code === 0x3d /* = */) break;
    if (code > 0xff || VALUES[code] < 0) return null;
    len++;
  }
  if (len % 4 === 1) return null;

  const out: number[] = [];
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const a = VALUES[text.charCodeAt(i)];
    const b = VALUES[text.charCodeAt(i + 1)];
    const c = VALUES[text.charCodeAt(i + 2)];
    const d = VALUES[text.charCodeAt(i + 3)];
    out.push(((a << 2) | (b >> 4)) & 0xff, ((b << 4) | (c >> 2)) & 0xff, ((c << 6) | d) & 0xff);
  }
  const rest = len - i;
  if (rest > 1) {
    const a = VALUES[text.charCodeAt(i)];
    const b = VALUES[text.charCodeAt(i + 1)];
    out.push(((a << 2) | (b >> 4)) & 0xff);
    if (rest > 2) {
      const c = VALUES[text.charCodeAt(i + 2)];
      out.push(((b << 4) | (c >> 2)) & 0xff);
    }
  }
  let result = "";
  for (let j = 0; j < out.length; j += 8192) {
    result += String.fromCharCode(...out.slice(j, j + 8192));
  }
  return result;
}

/**
 * Encodes a binary string as standard padded base64. Chars above 0xFF contribute
 * only their low byte (callers pass binary strings), so this never throws.
 */
export function encodeBase64(binary: string): string {
  let out = "";
  let i = 0;
  for (; i + 3 <= binary.length; i += 3) {
    const n = ((binary.charCodeAt(i) & 0xff) << 16) | ((binary.charCodeAt(i + 1) & 0xff) << 8) |
      (binary.charCodeAt(i + 2) & 0xff);
    out += ALPHABET[n >> 18] + ALPHABET[(n >> 12) & 63] + ALPHABET[(n >> 6) & 63] + ALPHABET[n & 63];
  }
  const rest = binary.length - i;
  if (rest === 1) {
    const n = (binary.charCodeAt(i) & 0xff) << 16;
    out += ALPHABET[n >> 18] + ALPHABET[(n >> 12) & 63] + "==";
  } else if (rest === 2) {
    const n = ((binary.charCodeAt(i) & 0xff) << 16) | ((binary.charCodeAt(i + 1) & 0xff) << 8);
    out += ALPHABET[n >> 18] + ALPHABET[(n >> 12) & 63] + ALPHABET[(n >> 6) & 63] + "=";
  }
  return out;
}
