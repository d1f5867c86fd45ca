/**
 * Shared pieces of the property/fuzz tests: the run count, byte generators biased
 * towards protocol syntax, arbitrary chunkings, and reply-line checks.
 *
 * The run count comes from `FUZZ_RUNS` (default 1 000, the normal test run);
 * `deno task fuzz` sets 100 000. Every property logs how many cases it ran, so the
 * fuzz task's output shows the count per parser.
 * @module
 */

import assert from "node:assert/strict";
import process from "node:process";
import fc from "fast-check";

/** Cases per property: env FUZZ_RUNS, default 1 000. */
export function fuzzRuns(): number {
  const raw = process.env.FUZZ_RUNS;
  const n = raw ? Number(raw) : 1000;
  if (!Number.isInteger(n) || n < 1) throw new Error(`FUZZ_RUNS must be a positive integer, got "${raw}"`);
  return n;
}

/** Runs a property with {@link fuzzRuns} cases and prints the count (the fuzz task's report). */
export function check<Ts extends [unknown, ...unknown[]]>(
  name: string,
  property: fc.IProperty<Ts>,
  runs = fuzzRuns(),
): void {
  const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
  const started = performance.now();
  fc.assert(property, { numRuns: runs, seed, endOnFailure: true });
  console.log(`fuzz ${name}: ${runs} cases in ${((performance.now() - started) / 1000).toFixed(1)}s`);
}

/** A binary string (one char per byte) from a byte array. */
export function bin(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

/** Bytes of a binary string. */
export function bytesOf(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/**
 * Input made of protocol tokens mixed with hostile bytes (NUL, 8-bit, bare CR/LF,
 * random runs), so the generator reaches deep parser states instead of only
 * "invalid command".
 */
export function tokenStream(tokens: readonly string[], maxParts = 40): fc.Arbitrary<Uint8Array> {
  const part = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...tokens) },
    { weight: 2, arbitrary: fc.constantFrom("\r\n", "\n", "\r", " ", "\0", "\xff", "\x80", '"', "\\", "{") },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 24 }).map(bin) },
    { weight: 1, arbitrary: fc.nat({ max: 5000 }).map((n) => "x".repeat(n)) },
  );
  return fc.array(part, { maxLength: maxParts }).map((parts) => bytesOf(parts.join("")));
}

/** Splits `data` into 1..n chunks at arbitrary points (every split is a possible TCP segmentation). */
export function chunked(data: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array[]> {
  return data.chain((bytes) =>
    fc.array(fc.nat({ max: Math.max(0, bytes.length) }), { maxLength: 12 }).map((cuts) => {
      const points = [...new Set([0, ...cuts, bytes.length])].sort((a, b) => a - b);
      const out: Uint8Array[] = [];
      for (let i = 0; i + 1 < points.length; i++) out.push(bytes.slice(points[i], points[i + 1]));
      return out.length > 0 ? out : [bytes];
    })
  );
}

/**
 * Splits a reply into lines and checks each is CRLF-terminated with no bare CR or
 * LF inside and matches `line`. Returns the lines (without CRLF).
 */
export function replyLines(text: string, line: RegExp, what: string): string[] {
  assert.ok(text.endsWith("\r\n"), `${what}: reply not CRLF-terminated: ${JSON.stringify(text)}`);
  const lines = text.slice(0, -2).split("\r\n");
  for (const l of lines) {
    assert.ok(!/[\r\n]/.test(l), `${what}: bare CR or LF in reply line ${JSON.stringify(l)}`);
    assert.match(l, line, `${what}: malformed reply line ${JSON.stringify(l)}`);
  }
  return lines;
}

/** True when a binary string holds CR, LF or NUL (what must never reach a backend command line). */
export function hasLineBreakOrNul(text: string): boolean {
  return /[\r\n\0]/.test(text);
}
