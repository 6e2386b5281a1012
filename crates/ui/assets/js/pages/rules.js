// Rules: what each rule did within a window (RulesService.GetRuleStats):
// matches, contacts, suppressions, and purchases after contact for the
// contacted customers against the control group, with the lift and its
// uncertainty.

import { all, call, describe } from "../api.js";
import { chart } from "../charts.js";
import { fill, h, section, table } from "../dom.js";
import { count, number, percent } from "../format.js";

export const title = "Rules";

const WINDOWS = [7, 30, 90, 365];
let windowDays = 30;

/** z for a two-sided 95% interval. */
const Z95 = 1.959964;

export async function render(view) {
  const rules = await all("RulesService", "ListRules", {}, "rules", 1000);
  const picker = h("select", { id: "rules-window", name: "window" },
    WINDOWS.map((d) => h("option", { value: String(d), selected: d === windowDays }, `${d} days`)));
  const body = h("div", {});
  picker.addEventListener("change", () => {
    windowDays = Number(picker.value);
    show(body, rules).catch((e) => fill(body, h("p", { class: "error" }, describe(e))));
  });
  fill(view,
    h("h1", {}, "Rules"),
    h("div", { class: "controls" }, h("label", { for: "rules-window" }, "Window"), picker),
    body);
  await show(body, rules);
}

// A rule that fired for more customers than scoring.dry_run_limit is
// answered from a uniform sample of them; its counts are estimates.
function sampledNote(s) {
  return `Estimated from a uniform sample of ${count(s.customersRead)} of the customers it fired for`;
}

async function show(body, rules) {
  if (!rules.length) {
    fill(body, h("p", { class: "muted" }, "No rules yet. Business users write them with `rapport rules`."));
    return;
  }
  const stats = await Promise.all(rules.map((r) =>
    call("RulesService", "GetRuleStats", { ruleId: r.id, windowDays }).catch((e) => ({ error: describe(e) }))));
  const rows = rules.map((r, i) => {
    const s = stats[i];
    if (s.error) return [r.name, { text: s.error, className: "error" }, "", "", "", "", "", "", "", "", "", ""];
    const lift = liftOf(s);
    return [
      r.name,
      state(r),
      s.sampled ? { text: `≈ ${count(s.firings)}`, title: sampledNote(s) } : count(s.firings),
      s.sampled ? { text: `≈ ${count(s.customersMatched)}`, title: sampledNote(s) } : count(s.customersMatched),
      count(s.customersContacted),
      count(s.holdoutCustomers),
      count(s.notificationsSent),
      count(s.notificationsSuppressed),
      count(s.evaluationErrors),
      number(s.purchasesPerContactedCustomer),
      number(s.purchasesPerHoldoutCustomer),
      { text: lift.difference, title: lift.note },
      { text: lift.relative, title: lift.note },
    ];
  });
  const valid = rules.map((r, i) => [r, stats[i]]).filter(([, s]) => !s.error);
  fill(body,
    section(`What each rule did in the last ${windowDays} days`,
      table(`Rules: matches, contacts and purchases after contact in the last ${windowDays} days`, [
        { label: "Rule" }, { label: "State" }, { label: "Firings", numeric: true },
        { label: "Customers matched", numeric: true }, { label: "Contacted", numeric: true },
        { label: "Control group", numeric: true }, { label: "Notifications sent", numeric: true },
        { label: "Suppressed", numeric: true }, { label: "Evaluation errors", numeric: true },
        { label: "Purchases per contacted customer", numeric: true },
        { label: "Purchases per control customer", numeric: true },
        { label: "Lift (purchases per customer, 95% interval)", numeric: true },
        { label: "Relative lift (95% interval)", numeric: true },
      ], rows, { className: "data rules" }),
      h("p", { class: "muted" },
        "Lift compares purchases per customer after the first firing, contacted against control. ",
        "Its 95% interval treats each group's purchases as Poisson counts (the stats give each group's ",
        "mean and size, not its spread); a small control group gives a wide interval."),
      errorsOf(valid)),
    chart({
      key: "rule-purchases",
      title: "Purchases per customer after contact: contacted against control",
      summary: valid.map(([r, s]) =>
        `${r.name}: ${number(s.purchasesPerContactedCustomer)} contacted, ${number(s.purchasesPerHoldoutCustomer)} control`).join("; ") || "No figures.",
      xLabel: "Rule",
      labels: valid.map(([r]) => r.name),
      kind: "bars",
      series: [
        { label: "Contacted", values: valid.map(([, s]) => Number(s.purchasesPerContactedCustomer ?? 0)), format: (x) => number(x) },
        { label: "Control group", values: valid.map(([, s]) => Number(s.purchasesPerHoldoutCustomer ?? 0)), format: (x) => number(x) },
      ],
      yFormat: (x) => number(x, 2),
    }));
}

function state(r) {
  if (!r.publishedVersion) return `draft v${r.latestVersion ?? 1}`;
  return `v${r.publishedVersion} published${r.enabled ? "" : ", paused"}`;
}

function errorsOf(valid) {
  const failing = valid.filter(([, s]) => s.lastError);
  if (!failing.length) return null;
  return h("ul", { class: "errors" }, failing.map(([r, s]) => h("li", {}, `${r.name}: ${s.lastError}`)));
}

/**
 * The difference in purchases per customer (contacted less control) and the
 * relative lift, each with a 95% interval; words where there is nothing to
 * compare.
 */
export function liftOf(s) {
  const nc = Number(s.customersContacted ?? 0);
  const nh = Number(s.holdoutCustomers ?? 0);
  const pc = Number(s.purchasesPerContactedCustomer ?? 0);
  const ph = Number(s.purchasesPerHoldoutCustomer ?? 0);
  if (nc === 0) return { difference: "no one contacted", relative: "–", note: "" };
  if (nh === 0) return { difference: "no control group", relative: "–", note: "Set holdout_percent to keep one." };
  const diff = pc - ph;
  const se = Math.sqrt(pc / nc + ph / nh);
  const signed = (x) => (x > 0 ? "+" : "") + number(x);
  const difference = `${signed(diff)} (${signed(diff - Z95 * se)} to ${signed(diff + Z95 * se)})`;
  let relative = "–";
  if (ph > 0 && pc > 0) {
    const seLog = Math.sqrt(1 / (pc * nc) + 1 / (ph * nh));
    const r = Math.log(pc / ph);
    const pct = (x) => (x > 0 ? "+" : "") + percent(x, 0);
    relative = `${pct(pc / ph - 1)} (${pct(Math.exp(r - Z95 * seLog) - 1)} to ${pct(Math.exp(r + Z95 * seLog) - 1)})`;
  }
  return { difference, relative, note: `${count(nc)} contacted, ${count(nh)} in the control group` };
}
