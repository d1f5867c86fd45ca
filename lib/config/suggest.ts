/**
 * "Did you mean" for misspelt keys and values: optimal string alignment distance
 * (Levenshtein plus adjacent transpositions, the commonest typing slip).
 * @module
 */

/** Edit distance counting insertions, deletions, substitutions and adjacent swaps. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from(
    { length: rows },
    (_, i) => Array.from({ length: cols }, (_, j) => i || j),
  );
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[rows - 1][cols - 1];
}

/**
 * The candidate closest to `word`, if it is close enough to be a plausible typo:
 * at most 3 edits, and less than half the word's length (so "ab" does not suggest "on").
 * Failing that, a candidate the word is a prefix of. Case is ignored; ties go to the
 * earlier candidate.
 */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  const lower = word.toLowerCase();
  const limit = Math.min(3, Math.ceil(word.length / 2) - 1);
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  // A truncated word ("warn", "ssl_cert") is far in edits but obviously meant.
  if (best === undefined && word.length >= 3) {
    for (const candidate of candidates) if (candidate.toLowerCase().startsWith(lower)) return candidate;
  }
  return best;
}

/** ` — did you mean "x"?` or an empty string. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const hit = suggest(word, candidates);
  return hit === undefined ? "" : ` — did you mean "${hit}"?`;
}
