// The Reports page's cross-sell tables: the category pairs bought together
// (affinity, with support, confidence and lift) and the cross-sell list
// that recommends to each customer a category they have not bought. Each
// with a CSV download made from the same JSON.

import { h, section, table } from "../dom.js";
import { count, decimal, money, number, percent } from "../format.js";

const AFFINITY_COLUMNS = [
  { label: "Customers who buy" }, { label: "Also buy" }, { label: "Both", numeric: true },
  { label: "Buyers of the first", numeric: true }, { label: "Buyers of the second", numeric: true },
  { label: "Support", numeric: true }, { label: "Confidence", numeric: true }, { label: "Lift", numeric: true },
];

// Pairs by lift, as the report keeps them: "customers who buy A also buy B".
export function affinity(report, csvButton, fileName) {
  const title = "Category affinity";
  const list = report.categoryAffinity ?? [];
  if (!list.length) {
    return section(title, h("p", { class: "muted", "data-empty": "affinity" },
      "No two categories are bought together often enough, or no purchase has a category yet."));
  }
  return section(title,
    h("div", { class: "controls" }, csvButton("affinity", () => ({
      name: fileName(report, "affinity"),
      header: ["category", "also_bought", "customers", "category_customers", "also_bought_customers",
        "support", "confidence", "lift"],
      rows: list.map((p) => [
        p.category ?? "", p.alsoBought ?? "", Number(p.customers ?? 0), Number(p.categoryCustomers ?? 0),
        Number(p.alsoBoughtCustomers ?? 0), p.support ?? 0, p.confidence ?? 0, p.lift ?? 0,
      ]),
    }))),
    table("Customers who buy one category also buy another, by lift", AFFINITY_COLUMNS, list.map((p) => [
      p.category ?? "", p.alsoBought ?? "", count(p.customers), count(p.categoryCustomers),
      count(p.alsoBoughtCustomers), percent(p.support), percent(p.confidence), number(p.lift),
    ]), { className: "data affinity" }),
    h("p", { class: "muted" },
      `Among the ${count(report.categoryBuyers)} customers with a purchase in a category: support is the share who bought both, confidence the share of the first category's buyers who bought the second, lift the confidence over the second's share of all buyers.`));
}

const CROSS_SELL_COLUMNS = [
  { label: "Rank" }, { label: "Customer" }, { label: "Expected value", numeric: true },
  { label: "Recommended" }, { label: "Because of" }, { label: "Confidence", numeric: true },
  { label: "Lift", numeric: true }, { label: "Average basket", numeric: true }, { label: "Reason" },
];

// The next-best list: each customer's likeliest category not yet bought, by
// its confidence times their average basket.
export function crossSell(report, csvButton, fileName) {
  const title = "Cross-sell (next-best list)";
  const list = report.crossSell ?? [];
  const currency = report.currencyCode;
  if (!list.length) {
    return section(title, h("p", { class: "muted", "data-empty": "cross-sell" },
      "No customer has a likely category they have not bought yet."));
  }
  return section(title,
    h("div", { class: "controls" }, csvButton("cross-sell", () => ({
      name: fileName(report, "cross-sell"),
      header: ["rank", "customer_id", "display_name", "expected_value", "order_value", "bought_category",
        "recommended_category", "confidence", "lift", "support", "purchases", "days_since_last_purchase",
        "reason", "currency"],
      rows: list.map((e, i) => [
        i + 1, e.customerId, e.displayName ?? "", decimal(e.value, currency), decimal(e.orderValue, currency),
        e.boughtCategory ?? "", e.recommendedCategory ?? "", e.confidence ?? 0, e.lift ?? 0, e.support ?? 0,
        Number(e.purchases ?? 0), Number(e.daysSinceLastPurchase ?? 0), e.reason ?? "", currency,
      ]),
    }))),
    table("Likely categories not yet bought, by expected value", CROSS_SELL_COLUMNS, list.map((e, i) => [
      String(i + 1),
      h("a", { href: `#/customers/${encodeURIComponent(e.customerId)}` }, e.displayName || e.customerId),
      money(e.value, currency), e.recommendedCategory ?? "", e.boughtCategory ?? "",
      percent(e.confidence), number(e.lift), money(e.orderValue, currency),
      { text: e.reason ?? "", className: "reason" },
    ]), { className: "data cross-sell" }),
    h("p", { class: "muted" },
      "The expected value is the confidence that the customer buys the recommended category times their average basket."));
}
