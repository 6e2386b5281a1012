// Reports: every table of the latest report run, each with a CSV download
// made here from the same JSON: breakdowns by dimension, months, cohort
// retention, rankings, the reactivation list and the up-sell list; the
// category affinity and the cross-sell list come from `cross_sell.js`.

import { download, toCsv } from "../csv.js";
import { fill, h, section, table } from "../dom.js";
import { count, dateTime, decimal, enumLabel, money, number, percent } from "../format.js";
import * as reports from "../reports.js";
import { affinity, crossSell } from "./cross_sell.js";

export const title = "Reports";

let dimension = "REPORT_DIMENSION_REGION";
let rankingIndex = 0;

export async function render(view, notice = "") {
  const runs = await reports.runs();
  const active = runs.find(reports.isActive);
  const latest = await reports.latest(runs);
  const refresh = reports.refreshControl((done) => render(view, reports.describeRun(done.run)), active, notice);
  if (!latest?.report) {
    fill(view, h("h1", {}, "Reports"),
      h("p", { "data-empty": "report" }, "There is no report yet: start one."), refresh);
    return;
  }
  const report = latest.report;
  fill(view,
    h("h1", {}, "Reports"),
    h("p", { class: "muted", "data-run-id": latest.run?.runId ?? "" },
      `Figures as of ${dateTime(report.asOf)} in ${report.currencyCode}, from report run ${latest.run?.runId ?? ""}.`),
    refresh,
    breakdowns(report),
    months(report),
    cohorts(report),
    rankings(report),
    reactivation(report),
    upsell(report),
    crossSell(report, csvButton, fileName),
    affinity(report, csvButton, fileName));
}

/** The file name for one table of this report. */
function fileName(report, what) {
  return `rapport-${what}-${(report.asOf ?? "").slice(0, 10)}.csv`;
}

function csvButton(label, make) {
  const button = h("button", { type: "button", "data-csv": label }, `Download CSV: ${label}`);
  button.addEventListener("click", () => {
    const { name, header, rows } = make();
    download(name, toCsv(header, rows));
  });
  return button;
}

const BREAKDOWN_COLUMNS = [
  { label: "Value" }, { label: "Customers", numeric: true }, { label: "Buyers", numeric: true },
  { label: "Net spend", numeric: true }, { label: "Margin", numeric: true },
  { label: "Monthly profit", numeric: true }, { label: "Equity", numeric: true },
  { label: "Average lifetime value", numeric: true }, { label: "Past value", numeric: true },
  { label: "Share of wallet", numeric: true }, { label: "With a wallet estimate", numeric: true },
];

function breakdowns(report) {
  const list = report.breakdowns ?? [];
  if (!list.some((b) => b.dimension === dimension) && list.length) dimension = list[0].dimension;
  const currency = report.currencyCode;
  const picker = h("select", { id: "breakdown-dimension", name: "dimension" },
    list.map((b) => h("option", { value: b.dimension, selected: b.dimension === dimension },
      enumLabel(b.dimension, "REPORT_DIMENSION_"))));
  const box = h("div", {});
  const show = () => {
    const rows = list.find((b) => b.dimension === dimension)?.rows ?? [];
    fill(box, table(`Customers by ${enumLabel(dimension, "REPORT_DIMENSION_").toLowerCase()}`, BREAKDOWN_COLUMNS,
      rows.map((r) => [
        r.value ?? "",
        count(r.customers), count(r.purchasers),
        money(r.netSpend, currency), money(r.margin, currency), money(r.monthlyProfit, currency),
        money(r.equity, currency), money(r.averageLifetimeValue, currency), money(r.pastValue, currency),
        r.shareOfWallet === undefined ? "–" : percent(r.shareOfWallet), count(r.walletCustomers),
      ]), { className: "data breakdown" }));
  };
  picker.addEventListener("change", () => {
    dimension = picker.value;
    show();
  });
  show();
  return section("Breakdowns",
    h("div", { class: "controls" },
      h("label", { for: "breakdown-dimension" }, "Break down by"), picker,
      csvButton("breakdown", () => {
        const rows = list.find((b) => b.dimension === dimension)?.rows ?? [];
        return {
          name: fileName(report, `breakdown-${enumLabel(dimension, "REPORT_DIMENSION_").toLowerCase().replaceAll(" ", "-")}`),
          header: ["value", "customers", "purchasers", "net_spend", "margin", "monthly_profit", "equity",
            "average_lifetime_value", "past_value", "share_of_wallet", "wallet_customers", "currency"],
          rows: rows.map((r) => [
            r.value ?? "", Number(r.customers ?? 0), Number(r.purchasers ?? 0),
            decimal(r.netSpend, currency), decimal(r.margin, currency), decimal(r.monthlyProfit, currency),
            decimal(r.equity, currency), decimal(r.averageLifetimeValue, currency), decimal(r.pastValue, currency),
            r.shareOfWallet === undefined ? "" : r.shareOfWallet, Number(r.walletCustomers ?? 0), currency,
          ]),
        };
      })),
    box);
}

function months(report) {
  const list = report.months ?? [];
  const currency = report.currencyCode;
  return section("Revenue per month",
    h("div", { class: "controls" }, csvButton("months", () => ({
      name: fileName(report, "months"),
      header: ["month", "net_spend", "margin", "buying_customers", "new_customers", "returning_customers",
        "new_customer_spend", "returning_customer_spend", "currency"],
      rows: list.map((m) => [
        m.month, decimal(m.netSpend, currency), decimal(m.margin, currency), Number(m.buyingCustomers ?? 0),
        Number(m.newCustomers ?? 0), Number(m.returningCustomers ?? 0),
        decimal(m.newCustomerSpend, currency), decimal(m.returningCustomerSpend, currency), currency,
      ]),
    }))),
    table("Revenue, margin and customers per month, new against returning", [
      { label: "Month" }, { label: "Net spend", numeric: true }, { label: "Margin", numeric: true },
      { label: "Buying customers", numeric: true }, { label: "New", numeric: true },
      { label: "Returning", numeric: true }, { label: "Spend of new", numeric: true },
      { label: "Spend of returning", numeric: true },
    ], list.map((m) => [
      m.month, money(m.netSpend, currency), money(m.margin, currency), count(m.buyingCustomers),
      count(m.newCustomers), count(m.returningCustomers), money(m.newCustomerSpend, currency),
      money(m.returningCustomerSpend, currency),
    ]), { className: "data months" }));
}

function cohorts(report) {
  const list = report.cohorts ?? [];
  const width = Math.max(0, ...list.map((c) => (c.active ?? []).length));
  const ks = [...Array(width).keys()];
  return section("Cohort retention",
    h("div", { class: "controls" }, csvButton("cohorts", () => ({
      name: fileName(report, "cohorts"),
      header: ["cohort", "customers", ...ks.map((k) => `active_month_${k}`)],
      rows: list.map((c) => [c.cohort, Number(c.customers ?? 0), ...ks.map((k) => {
        const v = (c.active ?? [])[k];
        return v === undefined ? "" : Number(v);
      })]),
    }))),
    table("Customers of each first-purchase cohort buying again k months later", [
      { label: "Cohort" }, { label: "Customers", numeric: true },
      ...ks.map((k) => ({ label: `+${k}`, numeric: true })),
    ], list.map((c) => {
      const n = Number(c.customers ?? 0);
      return [c.cohort, count(n), ...ks.map((k) => {
        const v = (c.active ?? [])[k];
        if (v === undefined) return "";
        return { text: n ? percent(Number(v) / n, 0) : "–", title: `${count(v)} of ${count(n)} customers` };
      })];
    }), { className: "data cohorts" }),
    h("p", { class: "muted" }, "Each cell is the share of the cohort that bought in that month; hover for the count."));
}

function rankingLabel(r) {
  const spec = r.spec ?? {};
  const filters = (spec.filters ?? []).map((f) => `${enumLabel(f.dimension, "REPORT_DIMENSION_").toLowerCase()} = ${f.value}`);
  return `Top ${spec.limit ?? 10} by ${enumLabel(spec.measure, "REPORT_MEASURE_").toLowerCase()}${filters.length ? ` where ${filters.join(" and ")}` : ""}`;
}

function rankedValue(c, measure) {
  if (c.money) return money(c.money);
  if (measure === "REPORT_MEASURE_PROBABILITY_ALIVE" || measure === "REPORT_MEASURE_SHARE_OF_WALLET") {
    return percent(c.value ?? 0);
  }
  return number(c.value ?? 0);
}

function rankings(report) {
  const list = report.rankings ?? [];
  if (!list.length) return section("Rankings", h("p", { class: "muted" }, "No rankings in this report."));
  if (rankingIndex >= list.length) rankingIndex = 0;
  const picker = h("select", { id: "ranking", name: "ranking" },
    list.map((r, i) => h("option", { value: String(i), selected: i === rankingIndex }, rankingLabel(r))));
  const box = h("div", {});
  const show = () => {
    const r = list[rankingIndex];
    fill(box, table(rankingLabel(r), [{ label: "Rank" }, { label: "Customer" }, { label: "Value", numeric: true }],
      (r.customers ?? []).map((c, i) => [
        String(i + 1),
        h("a", { href: `#/customers/${encodeURIComponent(c.customerId)}` }, c.displayName || c.customerId),
        rankedValue(c, r.spec?.measure),
      ]), { className: "data ranking" }));
  };
  picker.addEventListener("change", () => {
    rankingIndex = Number(picker.value);
    show();
  });
  show();
  return section("Rankings",
    h("div", { class: "controls" },
      h("label", { for: "ranking" }, "Ranking"), picker,
      csvButton("ranking", () => {
        const r = list[rankingIndex];
        return {
          name: fileName(report, `ranking-${rankingIndex + 1}`),
          header: ["rank", "customer_id", "display_name", "value", "money", "currency"],
          rows: (r.customers ?? []).map((c, i) => [
            i + 1, c.customerId, c.displayName ?? "", c.value ?? 0,
            c.money ? decimal(c.money) : "", c.money?.currencyCode ?? "",
          ]),
        };
      })),
    box);
}

const REACTIVATION_COLUMNS = [
  { label: "Rank" }, { label: "Customer" }, { label: "Value at risk", numeric: true },
  { label: "P(alive)", numeric: true }, { label: "Lifetime value", numeric: true },
  { label: "Past value", numeric: true }, { label: "Days since last purchase", numeric: true },
  { label: "Purchases", numeric: true }, { label: "Reason" },
];

// The next-best list the report computes (and rules read as
// customer.lists): repeat buyers likely gone, by value at risk.
function reactivation(report) {
  const title = "Reactivation (next-best list)";
  const list = report.reactivation ?? [];
  const currency = report.currencyCode;
  if (!list.length) {
    return section(title, h("p", { class: "muted", "data-empty": "reactivation" },
      "No repeat buyer is below P(alive) 0.5, or no model has been fitted yet."));
  }
  return section(title,
    h("div", { class: "controls" }, csvButton("reactivation", () => ({
      name: fileName(report, "reactivation"),
      header: ["rank", "customer_id", "display_name", "value_at_risk", "probability_alive", "lifetime_value",
        "past_value", "days_since_last_purchase", "purchases", "reason", "currency"],
      rows: list.map((e, i) => [
        i + 1, e.customerId, e.displayName ?? "", decimal(e.value, currency), e.probabilityAlive ?? 0,
        decimal(e.lifetimeValue, currency), decimal(e.pastValue, currency),
        Number(e.daysSinceLastPurchase ?? 0), Number(e.purchases ?? 0), e.reason ?? "", currency,
      ]),
    }))),
    table("Repeat buyers likely gone, by value at risk", REACTIVATION_COLUMNS, list.map((e, i) => [
      String(i + 1),
      h("a", { href: `#/customers/${encodeURIComponent(e.customerId)}` }, e.displayName || e.customerId),
      money(e.value, currency), percent(e.probabilityAlive), money(e.lifetimeValue, currency),
      money(e.pastValue, currency), count(e.daysSinceLastPurchase), count(e.purchases),
      { text: e.reason ?? "", className: "reason" },
    ]), { className: "data reactivation" }),
    h("p", { class: "muted" },
      "Value at risk is what the customer is worth if still active (lifetime value over P(alive)) times the chance they have gone."));
}

const UPSELL_COLUMNS = [
  { label: "Rank" }, { label: "Customer" }, { label: "Yearly gap", numeric: true },
  { label: "Average basket", numeric: true }, { label: "Purchases, last 12 months", numeric: true },
  { label: "Purchases", numeric: true }, { label: "Days since last purchase", numeric: true },
  { label: "Reason" },
];

// The other next-best list: buyers whose basket is under half their
// frequency peers' median, by the yearly gap.
function upsell(report) {
  const title = "Up-sell (next-best list)";
  const list = report.upsell ?? [];
  const currency = report.currencyCode;
  if (!list.length) {
    return section(title, h("p", { class: "muted", "data-empty": "upsell" },
      "No frequent buyer spends under half their peers' median basket, or the population has not been scored yet."));
  }
  return section(title,
    h("div", { class: "controls" }, csvButton("upsell", () => ({
      name: fileName(report, "upsell"),
      header: ["rank", "customer_id", "display_name", "yearly_gap", "order_value",
        "purchases_last_12_months", "purchases", "days_since_last_purchase", "reason", "currency"],
      rows: list.map((e, i) => [
        i + 1, e.customerId, e.displayName ?? "", decimal(e.value, currency), decimal(e.orderValue, currency),
        Number(e.purchasesLast12Months ?? 0), Number(e.purchases ?? 0),
        Number(e.daysSinceLastPurchase ?? 0), e.reason ?? "", currency,
      ]),
    }))),
    table("Small baskets for their purchase frequency, by the yearly gap", UPSELL_COLUMNS, list.map((e, i) => [
      String(i + 1),
      h("a", { href: `#/customers/${encodeURIComponent(e.customerId)}` }, e.displayName || e.customerId),
      money(e.value, currency), money(e.orderValue, currency), count(e.purchasesLast12Months),
      count(e.purchases), count(e.daysSinceLastPurchase),
      { text: e.reason ?? "", className: "reason" },
    ]), { className: "data upsell" }),
    h("p", { class: "muted" },
      "The yearly gap is the difference to the median basket of the buyers with the same RFM frequency score, times the purchases of the last twelve months."));
}
