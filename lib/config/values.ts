/**
 * nginx value syntaxes used inside TOML strings: times ("1h30m") and sizes ("4k").
 * Pure functions returning either the number or an error text without location, so
 * the listen parser and the key parsers can share them.
 * @module
 */

/** A parse result: the value, or a message saying what is wrong with the text. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** Largest delay a JS timer accepts; longer ones fire immediately, so they are refused here. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

// nginx's units, most significant first; a duration must use them in this order.
const TIME_UNITS: [string, number][] = [
  ["y", 365 * 86_400_000],
  ["M", 30 * 86_400_000],
  ["w", 7 * 86_400_000],
  ["d", 86_400_000],
  ["h", 3_600_000],
  ["m", 60_000],
  ["s", 1000],
  ["ms", 1],
];

const DURATION_HINT = '(e.g. "60s", "500ms", "5m", "1h30m")';

/**
 * Parses an nginx time ("60s", "500ms", "1h 30m", "90" = seconds) into milliseconds.
 * Units y M w d h m s ms must appear at most once each, most significant first, as nginx
 * requires; a trailing number without unit counts as seconds. `max` defaults to the
 * longest timer (24 days); ages compared with timestamps may allow more.
 */
export function parseDuration(text: string, max: number = MAX_TIMER_MS): Parsed<number> {
  const bad = (): Parsed<number> => ({ ok: false, error: `invalid duration "${text}" ${DURATION_HINT}` });
  const re = /\s*(\d+)\s*(ms|[yMwdhms])?/y;
  let pos = 0;
  let total = 0;
  let lastRank = -1;
  let sawBare = false;
  const trimmed = text.trimEnd();
  if (trimmed.trim() === "") return bad();
  while (pos < trimmed.length) {
    re.lastIndex = pos;
    const m = re.exec(trimmed);
    if (!m || sawBare) return bad();
    pos = re.lastIndex;
    const unit = m[2] ?? "s";
    if (m[2] === undefined) sawBare = true;
    const rank = TIME_UNITS.findIndex(([u]) => u === unit);
    if (rank <= lastRank) return bad();
    lastRank = rank;
    total += Number(m[1]) * TIME_UNITS[rank][1];
  }
  if (!Number.isSafeInteger(total) || total > max) {
    return {
      ok: false,
      error: `duration "${text}" is too long (at most ${Math.floor(max / 86_400_000)} days)`,
    };
  }
  return { ok: true, value: total };
}

/** Parses an nginx size ("4k", "64K", "1m", "1g", "512" = bytes) into bytes. */
export function parseSize(text: string): Parsed<number> {
  const m = /^\s*(\d+)\s*([kKmMgG]?)\s*$/.exec(text);
  if (!m) return { ok: false, error: `invalid size "${text}" (e.g. "4k", "64K", "1m", or bytes)` };
  const scale = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase()] ?? 1;
  const value = Number(m[1]) * scale;
  if (!Number.isSafeInteger(value)) return { ok: false, error: `size "${text}" is too large` };
  return { ok: true, value };
}

/** Parses an nginx `on`/`off` word (used inside listen options, not for TOML keys). */
export function parseOnOff(text: string): boolean | undefined {
  if (text === "on") return true;
  if (text === "off") return false;
  return undefined;
}
