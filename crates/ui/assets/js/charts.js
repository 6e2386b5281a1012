// Charts drawn with uPlot (vendored under vendor/uplot, loaded by a plain
// script tag as the global `uPlot`). Each chart is a <figure> whose plot
// carries a one-sentence summary as its accessible name, with the same data
// as a table beneath it: the text alternative, and what a screen reader or
// keyboard user reads instead of the canvas.

import { h, table, uid } from "./dom.js";

// Dark enough for 3:1 against white (WCAG 1.4.11), told apart by hue.
const COLORS = ["#1d4e89", "#b34700", "#1b7837", "#8e2c8e", "#5a5a5a", "#a50f15"];
const AXIS = { stroke: "#333333", grid: { stroke: "#e3e3e3", width: 1 }, ticks: { stroke: "#bbbbbb" } };

/**
 * A chart. `spec`: { title, summary, xLabel, labels (one per point, for the
 * axis and the table), xs (numbers for a time axis, seconds; default the
 * indexes), axisLabels (shorter labels for the axis; default labels), time
 * (bool), kind ("bars" or "line"), series: [{ label, values, format }],
 * yFormat }.
 */
export function chart(spec) {
  const captionId = uid("fig");
  const plot = h("div", {
    class: "plot",
    role: "img",
    "aria-label": `${spec.title}. ${spec.summary}`,
  });
  const rows = spec.labels.map((label, i) => [
    label,
    ...spec.series.map((s) => (s.values[i] === null || s.values[i] === undefined ? "–" : s.format(s.values[i]))),
  ]);
  const data = table(`${spec.title}: the data`, [
    { label: spec.xLabel },
    ...spec.series.map((s) => ({ label: s.label, numeric: true })),
  ], rows, { className: "data chart-data" });
  const fig = h("figure", { class: "chart", "aria-labelledby": captionId, "data-chart": spec.key ?? null },
    h("figcaption", { id: captionId }, spec.title),
    plot,
    h("details", {}, h("summary", {}, `${spec.title}: show the data as a table`), data));
  if (!spec.labels.length) {
    plot.append(h("p", { class: "muted" }, "No data yet."));
    return fig;
  }
  if (typeof window.uPlot !== "function") {
    plot.append(h("p", { class: "muted" }, "The chart library did not load; the table below has the data."));
    return fig;
  }
  drawWhenSized(plot, spec);
  return fig;
}

/** Draws once the plot is in the page and has a width; follows resizes. */
function drawWhenSized(plot, spec) {
  let u = null;
  const observer = new ResizeObserver(() => {
    const width = Math.floor(plot.clientWidth);
    if (!width) return;
    if (!plot.isConnected) {
      observer.disconnect();
      return;
    }
    if (u) u.setSize({ width, height: 260 });
    else u = draw(plot, spec, width);
  });
  observer.observe(plot);
}

function draw(plot, spec, width) {
  const bars = spec.kind === "bars";
  const xs = spec.xs ?? spec.labels.map((_, i) => i);
  const axisLabels = spec.axisLabels ?? spec.labels;
  const indexLabel = (v) => (Number.isInteger(v) && spec.labels[v] !== undefined ? spec.labels[v] : "");
  const axisLabel = (v) => (Number.isInteger(v) && axisLabels[v] !== undefined ? axisLabels[v] : "");
  const day = 86400;
  // The time axis spans the data, from the data itself: one run is one
  // instant, so a day either side gives it a span.
  const first = Math.min(...xs);
  const last = Math.max(...xs);
  const timeRange = first === last ? [first - day, last + day] : [first, last];
  const opts = {
    width,
    height: 260,
    scales: {
      x: spec.time
        ? { time: true, auto: false, range: () => timeRange }
        : { time: false, range: (_u, min, max) => [min - 0.6, max + 0.6] },
    },
    axes: [
      spec.time
        ? { ...AXIS }
        : { ...AXIS, incrs: [1, 2, 3, 4, 6, 12, 24, 60], values: (_u, splits) => splits.map(axisLabel) },
      { ...AXIS, size: 80, values: (_u, splits) => splits.map((v) => spec.yFormat(v)) },
    ],
    series: [
      {
        label: spec.xLabel,
        value: (_u, v) => {
          if (v === null || v === undefined) return "–";
          return spec.time ? new Date(v * 1000).toISOString().slice(0, 16).replace("T", " ") : indexLabel(v);
        },
      },
      ...spec.series.map((s, i) => ({
        label: s.label,
        stroke: COLORS[i % COLORS.length],
        width: 2,
        fill: bars ? `${COLORS[i % COLORS.length]}cc` : undefined,
        paths: bars ? window.uPlot.paths.bars({ size: [0.7, 80], gap: 2 }) : undefined,
        points: { show: !bars, size: 7 },
        value: (_u, v) => (v === null || v === undefined ? "–" : s.format(v)),
      })),
    ],
    legend: { show: spec.series.length > 1 || !bars },
    cursor: { drag: { x: false, y: false } },
  };
  return new window.uPlot(opts, [xs, ...spec.series.map((s) => s.values)], plot);
}
