/** @jsxImportSource hono/jsx */
/**
 * A small server-side SVG bar chart for the status page (no JavaScript): one bar per
 * value, the maximum labelled, a `<title>` per bar for the exact number on hover.
 * @module
 */

import type { FC } from "hono/jsx";

/** A chart of `values` (oldest first), `label` as its caption and accessible name. */
export const BarChart: FC<{ id: string; label: string; values: number[]; unit: string }> = (
  { id, label, values, unit },
) => {
  const width = 360;
  const height = 80;
  const top = 14;
  const max = Math.max(1, ...values);
  const step = width / Math.max(1, values.length);
  const n = values.length;
  return (
    <figure class="chart">
      <svg
        id={id}
        role="img"
        aria-label={label}
        width={width}
        height={height}
        viewBox={`0 0 ${width} ${height}`}
      >
        <line x1="0" y1={height - 0.5} x2={width} y2={height - 0.5} stroke="#d7dce1" />
        {values.map((v, i) => {
          const h = Math.round(((height - top) * v) / max);
          return (
            <rect
              x={(i * step).toFixed(1)}
              y={height - h}
              width={Math.max(1, step - 1).toFixed(1)}
              height={h}
              fill="#3b6ea5"
            >
              <title>{`${n - 1 - i} min ago: ${v} ${unit}`}</title>
            </rect>
          );
        })}
        <text x="2" y="11" font-size="11" fill="#68717a">{`max ${Math.max(0, ...values)}`}</text>
      </svg>
      <figcaption class="muted">{label}</figcaption>
    </figure>
  );
};
