// Customers: open one by id or by a source system's identity, or browse the
// list (ProfilesService.ListCustomers) with each one's headline scores.

import { call, describe } from "../api.js";
import { fill, h, section, table } from "../dom.js";
import { count, enumLabel, money } from "../format.js";

export const title = "Customers";

const PAGE_SIZE = 25;

/** Page tokens of the pages seen, so "Previous" can go back. */
let tokens = [""];

export async function render(view) {
  const listBox = h("div", { "data-list": "customers" });
  fill(view,
    h("h1", {}, "Customers"),
    h("div", { class: "grid" }, openForm(), lookupForm()),
    section("All customers", listBox));
  await showPage(listBox, tokens.length - 1);
}

function openForm() {
  const input = h("input", { id: "customer-id", name: "customer-id", required: true, autocomplete: "off", spellcheck: "false" });
  const form = h("form", { class: "inline-form", "aria-labelledby": "open-title" },
    h("h2", { id: "open-title" }, "Open a customer"),
    h("label", { for: "customer-id" }, "Rapport customer id"),
    input,
    h("button", { type: "submit" }, "Open"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const id = input.value.trim();
    if (id) location.hash = `#/customers/${encodeURIComponent(id)}`;
  });
  return form;
}

function lookupForm() {
  const source = h("input", { id: "identity-source", name: "source", value: "erp", required: true, autocomplete: "off" });
  const external = h("input", { id: "identity-id", name: "external-id", required: true, autocomplete: "off", spellcheck: "false" });
  const error = h("p", { class: "error", role: "alert" });
  const form = h("form", { class: "inline-form", "aria-labelledby": "lookup-title" },
    h("h2", { id: "lookup-title" }, "Find by a source system's id"),
    h("label", { for: "identity-source" }, "Source (erp, pos, web, …)"),
    source,
    h("label", { for: "identity-id" }, "The customer's id in that source"),
    external,
    h("button", { type: "submit" }, "Find"),
    error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    try {
      const answer = await call("ProfilesService", "LookupCustomer", {
        identity: { source: source.value.trim(), externalId: external.value.trim() },
      });
      location.hash = `#/customers/${encodeURIComponent(answer.customer.id)}`;
    } catch (e) {
      error.textContent = describe(e);
    }
  });
  return form;
}

async function showPage(box, index) {
  const page = await call("ProfilesService", "ListCustomers", { pageSize: PAGE_SIZE, pageToken: tokens[index] });
  const list = page.customers ?? [];
  tokens = tokens.slice(0, index + 1);
  if (page.nextPageToken) tokens.push(page.nextPageToken);
  let scores = new Map();
  if (list.length) {
    const answer = await call("ScoringService", "BatchGetScores", { customerIds: list.map((c) => c.id) });
    scores = new Map((answer.scores ?? []).map((s) => [s.customerId, s]));
  }
  const rows = list.map((c) => {
    const s = scores.get(c.id);
    return [
      h("a", { href: `#/customers/${encodeURIComponent(c.id)}` }, c.displayName || "(no name)"),
      enumLabel(c.kind, "CUSTOMER_KIND_"),
      c.attributes?.region ?? "",
      s ? money(s.netSpend) : "no purchases",
      s ? count(s.purchaseCount) : "0",
      s?.segment ?? "",
      s?.tier ?? "",
      h("code", {}, c.id),
    ];
  });
  const previous = h("button", { type: "button", disabled: index === 0 }, "Previous page");
  const next = h("button", { type: "button", disabled: !page.nextPageToken }, "Next page");
  previous.addEventListener("click", () => showPage(box, index - 1).catch((e) => fill(box, h("p", { class: "error" }, describe(e)))));
  next.addEventListener("click", () => showPage(box, index + 1).catch((e) => fill(box, h("p", { class: "error" }, describe(e)))));
  fill(box,
    table(`Customers, page ${index + 1}`, [
      { label: "Name" }, { label: "Kind" }, { label: "Region" }, { label: "Net spend", numeric: true },
      { label: "Purchases", numeric: true }, { label: "Lifecycle" }, { label: "Tier" }, { label: "Id" },
    ], rows, { empty: "No customers yet." }),
    h("div", { class: "pager" }, previous, next));
}
