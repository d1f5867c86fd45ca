/**
 * A small Prometheus registry: counters, gauges and histograms with labels,
 * rendered in the text exposition format (0.0.4).
 *
 * Why not `prom-client`: it pulls in `@opentelemetry/api` and `tdigest`, and its
 * default metrics and cluster aggregation lean on Node's `process`/`cluster`/
 * `perf_hooks`, which Deno and Bun only emulate; we would turn most of it off. What
 * mailproxy needs is ~20 series, label escaping and a renderer, which fits here and
 * behaves the same on both runtimes. Exemplars need the OpenMetrics format
 * (`# EOF`, different `_total` handling); we serve 0.0.4 text, so none are attached
 * (the session id stays in the logs and `/sessions`, never in labels: unbounded).
 * @module
 */

/** Label names to values of one series. */
export type Labels = Record<string, string>;

/** Called on every increment of a labelled series, so kept to one pass without regexes for plain values. */
function labelKey(labels: Labels): string {
  const keys = Object.keys(labels);
  if (keys.length > 1) keys.sort();
  let key = "";
  for (let i = 0; i < keys.length; i++) {
    if (i > 0) key += ",";
    key += keys[i] + '="' + escapeLabel(labels[keys[i]]) + '"';
  }
  return key;
}

const NEEDS_ESCAPE = /[\\\n"]/;

function escapeLabel(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

interface Metric {
  readonly name: string;
  render(): string;
}

/** A monotonically increasing counter. */
export class Counter implements Metric {
  readonly #values = new Map<string, number>();
  readonly #labels = new Map<string, Labels>();
  /** `onInc` sees every increment (e.g. to feed a rate window). */
  constructor(
    readonly name: string,
    readonly help: string,
    readonly onInc?: (labels: Labels, n: number) => void,
  ) {}

  /** Adds `n` (default 1) to the series with these labels. */
  inc(labels: Labels = {}, n = 1): void {
    const key = labelKey(labels);
    if (!this.#labels.has(key)) this.#labels.set(key, { ...labels });
    this.#values.set(key, (this.#values.get(key) ?? 0) + n);
    this.onInc?.(labels, n);
  }

  /** Creates the series at 0 if absent, so it is scraped before its first event. */
  init(labels: Labels): void {
    const key = labelKey(labels);
    if (this.#values.has(key)) return;
    this.#labels.set(key, { ...labels });
    this.#values.set(key, 0);
  }

  /** Every series with its labels and value. */
  series(): { labels: Labels; value: number }[] {
    return [...this.#values].map(([key, value]) => ({ labels: this.#labels.get(key)!, value }));
  }

  /** Current value of one series (0 if never incremented). */
  get(labels: Labels = {}): number {
    return this.#values.get(labelKey(labels)) ?? 0;
  }

  render(): string {
    return renderSeries(this.name, this.help, "counter", this.#values);
  }
}

/** A value that goes up and down. */
export class Gauge implements Metric {
  readonly #values = new Map<string, number>();
  constructor(readonly name: string, readonly help: string) {}

  /** Adds `n` (may be negative). */
  add(labels: Labels, n: number): void {
    const key = labelKey(labels);
    this.#values.set(key, (this.#values.get(key) ?? 0) + n);
  }

  /** Sets the series to `v`. */
  set(labels: Labels, v: number): void {
    this.#values.set(labelKey(labels), v);
  }

  /** Current value of one series. */
  get(labels: Labels = {}): number {
    return this.#values.get(labelKey(labels)) ?? 0;
  }

  render(): string {
    return renderSeries(this.name, this.help, "gauge", this.#values);
  }
}

/** A histogram with fixed buckets (seconds). */
export class Histogram implements Metric {
  readonly #series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(readonly name: string, readonly help: string, readonly buckets: number[]) {}

  /** Records one observation. */
  observe(labels: Labels, value: number): void {
    const key = labelKey(labels);
    let s = this.#series.get(key);
    if (!s) {
      s = { labels: { ...labels }, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.#series.set(key, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]) s.counts[i]++;
    s.sum += value;
    s.count++;
  }

  /** Every series with its labels, observation count and sum. */
  series(): { labels: Labels; count: number; sum: number }[] {
    return [...this.#series.values()].map((s) => ({ labels: s.labels, count: s.count, sum: s.sum }));
  }

  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} histogram\n`;
    for (const [key, s] of this.#series) {
      const sep = key ? "," : "";
      this.buckets.forEach((b, i) => {
        out += `${this.name}_bucket{${key}${sep}le="${b}"} ${s.counts[i]}\n`;
      });
      out += `${this.name}_bucket{${key}${sep}le="+Inf"} ${s.count}\n`;
      out += `${this.name}_sum${key ? `{${key}}` : ""} ${s.sum}\n`;
      out += `${this.name}_count${key ? `{${key}}` : ""} ${s.count}\n`;
    }
    return out;
  }
}

/** Holds metrics and renders them together. */
export class Registry {
  readonly #metrics: Metric[] = [];

  /** Registers and returns a metric. */
  register<T extends Metric>(metric: T): T {
    this.#metrics.push(metric);
    return metric;
  }

  /** The Prometheus text exposition of every registered metric. */
  render(): string {
    return this.#metrics.map((m) => m.render()).join("");
  }
}

/** Prometheus text of a metric whose series are one number each (a counter or a gauge). */
function renderSeries(
  name: string,
  help: string,
  type: "counter" | "gauge",
  values: Map<string, number>,
): string {
  let out = `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`;
  for (const [key, v] of values) out += `${name}${key ? `{${key}}` : ""} ${v}\n`;
  return out;
}
