// Overview: the tenant at a glance, from the latest report run: customers,
// revenue and equity; revenue per month; the lifetime value distribution;
// the RFM grid as a heat map; the tier pyramid; lifecycle segment sizes over
// the report runs.

import { call, describe } from "../api.js";
import { chart } from "../charts.js";
import { figure, fill, h, section, table } from "../dom.js";
import { count, dateTime, major, money, moneyOf, percent } from "../format.js";
import * as reports from "../reports.js";

export const title = "Overview";

/** Runs shown in "segments over time": the latest this many. */
const HISTORY_RUNS = 12;

export async function render(view, notice = "") {
  const runs = await reports.runs();
  const active = runs.find(reports.isActive);
  const latest = await reports.latest(runs);
  const refresh = reports.refreshControl((done) => render(view, reports.describeRun(done.run)), active, notice);
  if (!latest?.report) {
    fill(view,
      h("h1", {}, "Overview"),
      h("p", { "data-empty": "report" },
        "There is no report yet. A report is a job that reads every customer once; start one, ",
        "and the figures appear here when it has finished."),
      refresh);
    return;
  }
  const report = latest.report;
  const currency = report.currencyCode || "EUR";
  const [settings, history] = await Promise.all([
    call("ScoringService", "GetScoringSettings", {}).then((a) => a.settings ?? {}),
    segmentHistory(runs, latest),
  ]);
  fill(view,
    h("h1", {}, "Overview"),
    h("p", { class: "muted", "data-run-id": latest.run?.runId ?? "" },
      `Figures as of ${dateTime(report.asOf)}, from report run ${latest.run?.runId ?? ""}.`),
    refresh,
    kpis(report, currency),
    h("div", { class: "grid" },
      revenueChart(report, currency),
      lifetimeValueChart(report, currency)),
    h("div", { class: "grid" },
      rfmHeatMap(report),
      tierPyramid(report, settings)),
    segmentsChart(history));
}

function kpis(report, currency) {
  const t = report.total ?? {};
  return section("Key figures", h("dl", { class: "kpis" },
    figure("Customers", count(t.customers), "customers"),
    figure("Customers who bought", count(t.purchasers), "purchasers"),
    figure("Revenue (net spend)", money(t.netSpend, currency), "revenue"),
    figure("Customer equity", money(t.equity, currency), "equity"),
    figure("Average lifetime value", money(t.averageLifetimeValue, currency), "average-lifetime-value")));
}

function revenueChart(report, currency) {
  const months = report.months ?? [];
  const values = months.map((m) => major(m.netSpend, currency));
  const best = months.reduce((b, m, i) => (values[i] > (b?.v ?? -Infinity) ? { m: m.month, v: values[i] } : b), null);
  return chart({
    key: "revenue",
    title: "Revenue per month",
    summary: months.length
      ? `${months.length} months from ${months[0].month} to ${months.at(-1).month}; highest ${best.m} with ${formatMajor(best.v, currency)}.`
      : "No purchases yet.",
    xLabel: "Month",
    labels: months.map((m) => m.month),
    kind: "bars",
    series: [{ label: "Net spend", values, format: (v) => moneyOf(v, currency) }],
    yFormat: (v) => compact(v, currency),
  });
}

function lifetimeValueChart(report, currency) {
  const buckets = report.lifetimeValueHistogram ?? [];
  const labels = buckets.map((b, i) => {
    const from = formatMajor(Number(b.lower ?? 0), currency);
    const next = buckets[i + 1];
    return next ? `${from} to ${formatMajor(Number(next.lower ?? 0), currency)}` : `${from} and over`;
  });
  const values = buckets.map((b) => Number(b.customers ?? 0));
  const total = values.reduce((a, b) => a + b, 0);
  return chart({
    key: "lifetime-value",
    title: "Customer lifetime value distribution",
    summary: buckets.length
      ? `${count(total)} customers in ${buckets.length} buckets of lifetime value.`
      : "No lifetime values yet: they need a model fit.",
    xLabel: "Lifetime value",
    labels,
    axisLabels: buckets.map((b) => compact(Number(b.lower ?? 0), currency)),
    kind: "bars",
    series: [{ label: "Customers", values, format: count }],
    yFormat: (v) => count(v),
  });
}

function rfmHeatMap(report) {
  const cells = report.rfmGrid ?? [];
  if (!cells.length) {
    return section("RFM grid", h("p", { class: "muted" }, "The grid appears once the population is scored."));
  }
  const at = new Map(cells.map((c) => [`${c.recency}:${c.frequency}`, c]));
  const max = Math.max(1, ...cells.map((c) => Number(c.customers ?? 0)));
  const columns = [{ label: "Recency / frequency" },
    ...[1, 2, 3, 4, 5].map((f) => ({ label: `F${f}`, numeric: true }))];
  const rows = [5, 4, 3, 2, 1].map((r) => [
    { text: `R${r}`, title: `Recency score ${r}` },
    ...[1, 2, 3, 4, 5].map((f) => {
      const c = at.get(`${r}:${f}`) ?? {};
      const n = Number(c.customers ?? 0);
      const level = n === 0 ? 0 : Math.max(1, Math.ceil((5 * n) / max));
      return {
        text: count(n),
        className: `heat heat-${level}`,
        title: `Recency ${r}, frequency ${f}: ${count(n)} customers, ${money(c.netSpend, report.currencyCode)}`,
      };
    }),
  ]);
  const grid = table("Customers by RFM recency score (rows, 5 most recent) and frequency score (columns, 5 most frequent)",
    columns, rows, { className: "data heatmap" });
  grid.querySelectorAll("tbody tr").forEach((tr, i) => {
    tr.querySelectorAll("td").forEach((td, j) => {
      td.dataset.r = String(5 - i);
      td.dataset.f = String(j + 1);
    });
  });
  return section("RFM grid", grid,
    h("p", { class: "muted" }, "Darker cells hold more customers; hover a cell for its net spend."));
}

function tierPyramid(report, settings) {
  const rows = breakdown(report, "REPORT_DIMENSION_TIER");
  if (!rows.length) return section("Tier pyramid", h("p", { class: "muted" }, "No tiers yet."));
  const order = [...(settings.tiers ?? [])]
    .sort((a, b) => Number(b.minPercentile ?? 0) - Number(a.minPercentile ?? 0))
    .map((t) => t.name);
  const rank = (v) => {
    const i = order.indexOf(v);
    return i === -1 ? order.length + (v === "none" ? 1 : 0) : i;
  };
  const sorted = [...rows].sort((a, b) => rank(a.value) - rank(b.value));
  const total = Math.max(1, sorted.reduce((a, r) => a + Number(r.customers ?? 0), 0));
  const max = Math.max(1, ...sorted.map((r) => Number(r.customers ?? 0)));
  const items = sorted.map((r) => {
    const n = Number(r.customers ?? 0);
    const bar = h("span", { class: "bar", "aria-hidden": "true" });
    bar.style.width = `${Math.max(2, (100 * n) / max)}%`;
    return h("li", { "data-tier": r.value },
      h("span", { class: "tier-label" },
        h("strong", {}, r.value), ": ",
        h("span", { "data-customers": "" }, count(n)), ` customers (${percent(n / total)}), equity ${money(r.equity, report.currencyCode)}`),
      h("span", { class: "bar-track" }, bar));
  });
  return section("Tier pyramid",
    h("ol", { class: "pyramid", "aria-label": "Customers per tier, highest tier first" }, items));
}

/** Lifecycle segment sizes at each of the latest successful runs. */
async function segmentHistory(runs, latest) {
  const done = runs.filter(reports.isDone).slice(0, HISTORY_RUNS).reverse();
  const answers = await Promise.all(done.map((run) =>
    run.runId === latest.run?.runId
      ? latest
      : reports.get(run.runId).catch((e) => ({ error: describe(e), run }))));
  return answers.filter((a) => a.report).map((a) => ({
    asOf: a.report.asOf,
    sizes: new Map(breakdown(a.report, "REPORT_DIMENSION_LIFECYCLE")
      .map((r) => [r.value, Number(r.customers ?? 0)])),
  }));
}

function segmentsChart(history) {
  const names = [...new Set(history.flatMap((p) => [...p.sizes.keys()]))].sort();
  return chart({
    key: "segments",
    title: "Lifecycle segments over time (one point per report run)",
    summary: history.length
      ? `${history.length} report runs; latest: ${names.map((n) => `${n} ${count(history.at(-1).sizes.get(n) ?? 0)}`).join(", ")}.`
      : "No report runs yet.",
    xLabel: "Report as of",
    labels: history.map((p) => dateTime(p.asOf)),
    xs: history.map((p) => Date.parse(p.asOf) / 1000),
    time: true,
    kind: "line",
    series: names.map((n) => ({ label: n, values: history.map((p) => p.sizes.get(n) ?? 0), format: count })),
    yFormat: (v) => count(v),
  });
}

/** The rows of one dimension's breakdown. */
export function breakdown(report, dimension) {
  return (report.breakdowns ?? []).find((b) => b.dimension === dimension)?.rows ?? [];
}

function formatMajor(v, currency) {
  return new Intl.NumberFormat(undefined, { style: "currency", currency, maximumFractionDigits: 0 }).format(v);
}

function compact(v, currency) {
  return new Intl.NumberFormat(undefined, { style: "currency", currency, notation: "compact" }).format(v);
}
