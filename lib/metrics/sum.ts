/**
 * Adds up Prometheus text expositions (format 0.0.4) of several processes into one, series by
 * series: the same metric name with the same label set becomes one sample holding the sum of
 * the values (histograms are just `_bucket`/`_sum`/`_count` samples, so they add bucket-wise).
 * Label sets are kept as they are; a series only some inputs have is the sum of those.
 * A few gauges are not amounts (a start time, a 0/1 flag): a rule per family name takes their
 * minimum or maximum instead. Lines that do not parse are skipped, never thrown on: the
 * inputs come from other processes.
 * @module
 */

/** How the samples of one metric family combine. */
export type MergeRule = "sum" | "min" | "max";

interface Family {
  help?: string;
  type?: string;
  /** Series key (name plus the label block as written) to value, in first-seen order. */
  samples: Map<string, number>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const SUFFIXES = ["_bucket", "_sum", "_count"];

/**
 * Combines `texts` into one exposition: families in first-seen order, HELP and TYPE from the
 * first text that has them, each series summed over the texts (or `rules[family]`).
 */
export function sumMetricTexts(texts: string[], rules: Record<string, MergeRule> = {}): string {
  const families = new Map<string, Family>();
  const family = (name: string): Family => {
    let f = families.get(name);
    if (!f) {
      f = { samples: new Map() };
      families.set(name, f);
    }
    return f;
  };
  for (const text of texts) {
    let current: string | null = null;
    for (const line of text.split("\n")) {
      if (line.startsWith("#")) {
        const m = /^#\s+(HELP|TYPE)\s+([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\s(.*))?$/.exec(line);
        if (!m) continue;
        current = m[2];
        const f = family(current);
        if (m[1] === "HELP") f.help ??= m[3] ?? "";
        else f.type ??= (m[3] ?? "").trim();
        continue;
      }
      const sample = parseSample(line);
      if (!sample) continue;
      const owner = current !== null && belongsTo(sample.name, current) ? current : sample.name;
      const f = family(owner);
      const previous = f.samples.get(sample.key);
      f.samples.set(
        sample.key,
        previous === undefined ? sample.value : combine(rules[owner] ?? "sum", previous, sample.value),
      );
    }
  }
  let out = "";
  for (const [name, f] of families) {
    if (f.help !== undefined) out += `# HELP ${name} ${f.help}\n`;
    if (f.type !== undefined) out += `# TYPE ${name} ${f.type}\n`;
    for (const [key, value] of f.samples) out += `${key} ${formatValue(value)}\n`;
  }
  return out;
}

function belongsTo(sample: string, family: string): boolean {
  return sample === family || SUFFIXES.some((s) => sample === family + s);
}

function combine(rule: MergeRule, a: number, b: number): number {
  if (rule === "min") return Math.min(a, b);
  if (rule === "max") return Math.max(a, b);
  return a + b;
}

/** `name{labels} value [timestamp]`; null for anything else. The timestamp is dropped. */
function parseSample(line: string): { name: string; key: string; value: number } | null {
  const name = NAME.exec(line)?.[0];
  if (!name) return null;
  let i = name.length;
  if (line[i] === "{") {
    // The label block ends at the first "}" outside a quoted value ("\" escapes inside one).
    let quoted = false;
    for (i++; i < line.length; i++) {
      const ch = line[i];
      if (quoted && ch === "\\") i++;
      else if (ch === '"') quoted = !quoted;
      else if (!quoted && ch === "}") break;
    }
    if (i >= line.length) return null;
    i++;
  }
  const key = line.slice(0, i);
  const fields = line.slice(i).trim().split(/\s+/);
  if (fields.length < 1 || fields.length > 2 || line[i] !== " " && line[i] !== "\t") return null;
  const value = parseValue(fields[0]);
  return value === null ? null : { name, key, value };
}

function parseValue(token: string): number | null {
  if (token === "+Inf" || token === "Inf") return Infinity;
  if (token === "-Inf") return -Infinity;
  if (token === "NaN") return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(token)) return null;
  return Number(token);
}

function formatValue(value: number): string {
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}
