// One customer: profile, every score with its explanation, the model's
// outlook by month, the purchase timeline, loyalty points, tags, rule
// firings and notifications.

import { ApiError, all, call, describe } from "../api.js";
import { chart } from "../charts.js";
import { figure, fill, h, section, table } from "../dom.js";
import { count, date, dateTime, enumLabel, major, money, moneyOf, number, percent } from "../format.js";

export const title = "Customer";

export async function render(view, customerId) {
  const [customer, score, transactions, firings, notifications, rules, points, ledger] = await Promise.all([
    call("ProfilesService", "GetCustomer", { customerId }).then((a) => a.customer),
    call("ScoringService", "GetScore", { customerId }).then((a) => a.score).catch(missing),
    all("IngestionService", "ListTransactions", { customerId }, "transactions", 500).catch(failed),
    all("RulesService", "ListFirings", { customerId }, "firings", 200).catch(failed),
    all("NotificationsService", "ListNotifications", { customerId }, "notifications", 200).catch(failed),
    all("RulesService", "ListRules", {}, "rules", 1000).catch(() => []),
    call("LoyaltyService", "GetPointsBalance", { customerId }).then((a) => a.balance).catch(failed),
    all("LoyaltyService", "ListPointsLedger", { customerId }, "entries", 200).catch(failed),
  ]);
  const ruleNames = new Map(rules.map((r) => [r.id, r.name]));
  fill(view,
    h("p", {}, h("a", { href: "#/customers" }, "← All customers")),
    h("h1", {}, customer.displayName || "Customer without a name"),
    profile(customer),
    score ? scores(score) : section("Scores", h("p", { class: "muted" }, "No score yet: the customer has no purchase or interaction.")),
    score ? outlook(score) : null,
    timeline(transactions, score),
    pointsSection(points, ledger),
    tags(score),
    firingsSection(firings, ruleNames),
    notificationsSection(notifications));
}

/** A customer without a score yet is a finding, not an error. */
function missing(e) {
  if (e instanceof ApiError && e.code === "not_found") return null;
  throw e;
}

/** A list that could not be read shows why in its place. */
function failed(e) {
  return { error: describe(e) };
}

function profile(c) {
  const attributes = Object.entries(c.attributes ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return section("Profile", h("dl", { class: "facts" },
    fact("Rapport id", h("code", { "data-figure": "customer-id" }, c.id)),
    fact("Kind", enumLabel(c.kind, "CUSTOMER_KIND_") || "unknown"),
    c.email ? fact("Email", c.email) : null,
    c.phone ? fact("Phone", c.phone) : null,
    c.parentId ? fact("Parent account", h("a", { href: `#/customers/${encodeURIComponent(c.parentId)}` }, c.parentId)) : null,
    fact("Identities", (c.identities ?? []).map((i) => `${i.source}: ${i.externalId}`).join(", ") || "none"),
    fact("Consent", (c.consents ?? []).map((k) => `${enumLabel(k.channel, "CHANNEL_")} ${k.granted ? "granted" : "withdrawn"}`).join(", ") || "none recorded"),
    ...attributes.map(([k, v]) => fact(k.replaceAll("_", " "), v)),
    fact("Created", dateTime(c.createdAt))));
}

function fact(term, value) {
  return [h("dt", {}, term), h("dd", {}, value)];
}

function scores(s) {
  const v = s.value ?? {};
  const rfm = s.rfm ?? {};
  const predicted = v.probabilityAlive !== undefined;
  const prediction = (x, f) => (x === undefined ? "no model fit yet" : f(x));
  const flags = s.behaviourFlags ?? [];
  return section("Scores",
    h("dl", { class: "kpis" },
      figure("Net spend", money(s.netSpend), "net-spend"),
      figure("Purchases", count(s.purchaseCount), "purchase-count"),
      figure("Refunds", count(s.refundCount), "refund-count"),
      figure("Average order", money(s.averageOrderValue), "average-order-value"),
      figure("Average monthly spend", money(s.averageMonthlySpend), "average-monthly-spend"),
      figure("Days since last purchase", s.lastPurchaseAt ? count(s.recencyDays) : "never bought", "recency-days"),
      figure("Lifecycle", s.segment || "none", "segment"),
      figure("RFM", rfm.recency ? `R${rfm.recency} F${rfm.frequency} M${rfm.monetary} · ${rfm.segment}` : "not scored yet", "rfm"),
      figure("Tier", s.tier || "none yet", "tier"),
      figure("P(alive)", prediction(v.probabilityAlive, (x) => percent(x)), "probability-alive"),
      figure("Expected purchases, 30 days", prediction(v.expectedPurchases30d, (x) => number(x)), "expected-30d"),
      figure("Expected purchases, 90 days", prediction(v.expectedPurchases90d, (x) => number(x)), "expected-90d"),
      figure("Expected purchases, 365 days", prediction(v.expectedPurchases365d, (x) => number(x)), "expected-365d"),
      figure("Expected order value", predicted ? money(v.expectedOrderValue) : "no model fit yet", "expected-order-value"),
      figure("Lifetime value", predicted ? money(v.lifetimeValue) : "no model fit yet", "lifetime-value"),
      figure("Past value", money(v.pastValue), "past-value"),
      figure("Monthly profit", money(v.monthlyProfit), "monthly-profit"),
      figure("Share of wallet", v.shareOfWallet === undefined ? "no wallet estimate" : percent(v.shareOfWallet), "share-of-wallet")),
    flags.length
      ? h("div", {}, h("h3", {}, "Behaviour changes"), h("ul", { "data-list": "behaviour" },
        flags.map((f) => h("li", {}, h("strong", {}, f.kind), ` (strength ${number(f.strength)}): ${f.reason}`))))
      : null,
    table("How each score was computed", [{ label: "Measure" }, { label: "Explanation" }, { label: "Inputs" }],
      (s.explanations ?? []).map((e) => [
        e.measure,
        e.text,
        Object.entries(e.inputs ?? {}).map(([k, x]) => `${k} = ${x}`).join("; "),
      ]), { className: "data explanations", empty: "No explanations." }));
}

function outlook(s) {
  const months = s.value?.lifetimeValueByMonth ?? [];
  if (!months.length) return null;
  const labels = months.map((m) => `Month ${m.month}`);
  const axisLabels = months.map((m) => String(m.month));
  let running = 0;
  const cumulative = months.map((m) => (running += Number(m.expectedPurchases ?? 0)));
  const currency = s.netSpend?.currencyCode || "EUR";
  return section("Outlook by month (from the fitted model)",
    h("div", { class: "grid" },
      chart({
        key: "lifetime-value-by-month",
        title: "Lifetime value by month ahead",
        summary: `${months.length} months; ${money(s.value.lifetimeValue)} in all, discounted to today.`,
        xLabel: "Month ahead",
        labels,
        axisLabels,
        kind: "bars",
        series: [{ label: "Value", values: months.map((m) => major(m.value, currency)), format: (x) => moneyOf(x, currency) }],
        yFormat: (x) => number(x, 0),
      }),
      chart({
        key: "expected-purchases",
        title: "Expected purchases by month ahead",
        summary: `${number(running)} purchases expected over ${months.length} months, P(alive) now ${percent(s.value.probabilityAlive ?? 0)}.`,
        xLabel: "Month ahead",
        labels,
        axisLabels,
        kind: "line",
        series: [
          { label: "In the month", values: months.map((m) => Number(m.expectedPurchases ?? 0)), format: (x) => number(x) },
          { label: "Cumulative", values: cumulative, format: (x) => number(x) },
        ],
        yFormat: (x) => number(x, 1),
      })));
}

function timeline(transactions, score) {
  if (transactions.error) return section("Purchase timeline", h("p", { class: "error" }, transactions.error));
  const monthly = score?.monthlySpend ?? [];
  const currency = score?.netSpend?.currencyCode || "EUR";
  return section("Purchase timeline",
    monthly.length
      ? chart({
        key: "monthly-spend",
        title: "Net spend per month (last twelve months with activity)",
        summary: monthly.map((m) => `${m.month}: ${money(m.netSpend)}`).join(", "),
        xLabel: "Month",
        labels: monthly.map((m) => m.month),
        kind: "bars",
        series: [{ label: "Net spend", values: monthly.map((m) => major(m.netSpend, currency)), format: (x) => moneyOf(x, currency) }],
        yFormat: (x) => number(x, 0),
      })
      : null,
    table("Transactions, newest first", [
      { label: "Date" }, { label: "Kind" }, { label: "Amount", numeric: true }, { label: "Category" }, { label: "Source id" },
    ], transactions.map((t) => [
      date(t.occurredAt),
      enumLabel(t.kind, "TRANSACTION_KIND_"),
      money({ currencyCode: t.currencyCode, minorUnits: t.amountMinor ?? "0" }),
      t.category ?? "",
      `${t.source}: ${t.externalId}`,
    ]), { className: "data transactions", empty: "No transactions." }));
}

function pointsSection(balance, ledger) {
  if (balance.error) return section("Loyalty points", h("p", { class: "error" }, balance.error));
  const entries = ledger.error ? [] : ledger;
  return section("Loyalty points",
    h("dl", { class: "kpis" },
      figure("Balance", count(balance.balance ?? 0), "points-balance"),
      figure("Expiring within 30 days", count(balance.expiring30d ?? 0), "points-expiring"),
      figure("Earned", count(balance.earned ?? 0), "points-earned"),
      figure("Redeemed", count(balance.redeemed ?? 0), "points-redeemed"),
      figure("Expired", count(balance.expired ?? 0), "points-expired")),
    ledger.error ? h("p", { class: "error" }, ledger.error) : null,
    table("Points ledger, newest first", [
      { label: "Date" }, { label: "Entry" }, { label: "Points", numeric: true }, { label: "Balance", numeric: true },
      { label: "Expires" }, { label: "How" },
    ], entries.map((e) => [
      date(e.occurredAt),
      enumLabel(e.kind, "POINTS_ENTRY_KIND_"),
      count(e.points ?? 0),
      count(e.balanceAfter ?? 0),
      e.expiresAt ? date(e.expiresAt) : "",
      e.reason ?? "",
    ]), { className: "data points", empty: "No points: the tenant has no programme, or this customer has earned none yet." }));
}

function tags(score) {
  const list = score?.tags ?? [];
  return section("Tags",
    list.length
      ? h("ul", { class: "tags", "data-list": "tags" }, list.map((t) => h("li", {}, t)))
      : h("p", { class: "muted", "data-list": "tags" }, "No tags."));
}

function firingsSection(firings, ruleNames) {
  if (firings.error) return section("Rule firings", h("p", { class: "error" }, firings.error));
  return section("Rule firings",
    table("Rule firings, newest first", [
      { label: "Fired" }, { label: "Rule" }, { label: "Trigger" }, { label: "Control group" }, { label: "What it did" },
    ], firings.map((f) => [
      dateTime(f.firedAt),
      `${ruleNames.get(f.ruleId) ?? f.ruleId} v${f.ruleVersion ?? 0}`,
      [enumLabel(f.trigger, "RULE_TRIGGER_"), f.eventKind].filter(Boolean).join(": "),
      f.holdout ? "yes: not contacted" : "no",
      (f.actionResults ?? []).join("; "),
    ]), { className: "data firings", empty: "No rule has fired for this customer." }));
}

function notificationsSection(notifications) {
  if (notifications.error) return section("Notifications", h("p", { class: "error" }, notifications.error));
  return section("Notifications",
    table("Notifications, newest first", [
      { label: "Created" }, { label: "Channel" }, { label: "Status" }, { label: "Subject" }, { label: "Why" }, { label: "Origin" },
    ], notifications.map((n) => [
      dateTime(n.createdAt),
      enumLabel(n.channel, "CHANNEL_"),
      enumLabel(n.status, "NOTIFICATION_STATUS_"),
      n.subject ?? "",
      n.suppressedReason || n.lastError || "",
      n.origin ?? "",
    ]), { className: "data notifications", empty: "No notifications." }));
}
