// The web dashboard in a real browser: headless Chromium (Debian's, never a
// browser Playwright downloads) driven by playwright-core. It signs in,
// visits every page, checks the figures each page shows against the JSON
// API (asked here, directly), saves a screenshot of each page, checks that
// the keyboard reaches and works the controls, and fails on any console
// error, page error or failed request.
//
// Usage (tests/tests/dashboard.rs runs it):
//   RAPPORT_URL=http://127.0.0.1:50051 RAPPORT_API_KEY=rpk_... \
//   CHROMIUM=/usr/bin/chromium SCREENSHOTS=target/ui-screenshots \
//   node dashboard.mjs
// Prints one JSON line (what it checked) and exits 0, or prints every
// mismatch and exits 1.
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const url = process.env.RAPPORT_URL;
const key = process.env.RAPPORT_API_KEY;
const shots = process.env.SCREENSHOTS ?? "ui-screenshots";
const customerName = process.env.QUOTED_NAME ?? "";
mkdirSync(shots, { recursive: true });

// ---- the API, asked directly for the expected figures -------------------

async function api(service, method, body = {}) {
  const res = await fetch(`${url}/rapport.v1.${service}/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${service}/${method}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function all(service, method, body, field) {
  const items = [];
  let pageToken = "";
  do {
    const page = await api(service, method, { ...body, pageSize: 100, pageToken });
    items.push(...(page[field] ?? []));
    pageToken = page.nextPageToken ?? "";
  } while (pageToken);
  return items;
}

// ---- the expected text, formatted here independently of the page --------

const LOCALE = "en-US";
const n = (x) => Number(x ?? 0);
const count = (x) => new Intl.NumberFormat(LOCALE).format(n(x));
const money = (m, currency = "EUR") =>
  new Intl.NumberFormat(LOCALE, { style: "currency", currency: m?.currencyCode || currency })
    .format(n(m?.minorUnits) / 100);
const percent1 = (x) =>
  new Intl.NumberFormat(LOCALE, { style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(n(x));
/** Minor units as the exact decimal a CSV carries ("-1234.50"). */
function decimal(m) {
  const units = BigInt(m?.minorUnits ?? 0);
  const sign = units < 0n ? "-" : "";
  const abs = (units < 0n ? -units : units).toString().padStart(3, "0");
  return `${sign}${abs.slice(0, -2)}.${abs.slice(-2)}`;
}

/** An RFC 4180 parser: quoted fields, doubled quotes, CRLF line ends. */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i += 1; } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { row.push(field); field = ""; } else if (c === "\r" && text[i + 1] === "\n") {
      row.push(field); rows.push(row); row = []; field = ""; i += 1;
    } else field += c;
  }
  if (field || row.length) throw new Error(`the CSV does not end with CRLF: ${JSON.stringify(text.slice(-40))}`);
  return rows;
}

// ---- checks ---------------------------------------------------------------

const mismatches = [];
let checks = 0;
function expect(what, actual, expected) {
  checks += 1;
  if (actual !== expected) mismatches.push(`${what}: the page shows ${JSON.stringify(actual)}, the API says ${JSON.stringify(expected)}`);
}
function ensure(what, ok) {
  checks += 1;
  if (!ok) mismatches.push(what);
}

// ---- the browser ----------------------------------------------------------

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM,
  // Chromium refuses to start as root inside its sandbox (CI runs as root).
  args: process.getuid?.() === 0 ? ["--no-sandbox"] : [],
});
const context = await browser.newContext({
  locale: LOCALE,
  timezoneId: "UTC",
  viewport: { width: 1280, height: 900 },
  acceptDownloads: true,
});
const page = await context.newPage();
page.setDefaultTimeout(30000);

// Anything going wrong in the browser fails the test, except the one refusal
// the wrong-key step causes on purpose (and must cause).
let phase = "start";
const problems = [];
const expectedRefusals = [];
page.on("console", (msg) => {
  if (msg.type() !== "error") return;
  const text = `console error (${phase}): ${msg.text()}`;
  if (phase === "wrong key" && /401/.test(msg.text())) expectedRefusals.push(text);
  else problems.push(text);
});
page.on("pageerror", (e) => problems.push(`page error (${phase}): ${e.message}`));
page.on("requestfailed", (r) => problems.push(`request failed (${phase}): ${r.url()} ${r.failure()?.errorText}`));
page.on("response", (r) => {
  if (r.status() < 400) return;
  if (phase === "wrong key" && r.status() === 401) return;
  problems.push(`HTTP ${r.status()} (${phase}): ${r.url()}`);
});

async function shot(name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

/** Presses Tab until `selector` has the focus (at most 40 times). */
async function tabTo(selector) {
  for (let i = 0; i < 40; i += 1) {
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
    await page.keyboard.press("Tab");
  }
  throw new Error(`Tab never reached ${selector}`);
}

const texts = (selector) => page.$$eval(selector, (els) => els.map((e) => e.textContent.trim()));

try {
  // ---- sign in: a wrong key first, then the right one, by keyboard ----
  phase = "sign-in page";
  await page.goto(`${url}/ui/`);
  await page.waitForSelector("#api-key");
  await shot("sign-in");
  phase = "wrong key";
  await page.fill("#api-key", "rpk_not_a_key");
  await tabTo("form.sign-in button[type=submit]");
  await page.keyboard.press("Enter");
  const refused = page.locator("#sign-in-error");
  await refused.filter({ hasText: "unauthenticated" }).waitFor();
  ensure(`the wrong key's refusal shows the server's message: ${await refused.textContent()}`,
    /Not signed in: unauthenticated: /.test(await refused.textContent()));
  ensure("the wrong key is not kept", (await page.evaluate(() => sessionStorage.length)) === 0);

  phase = "sign in";
  await page.fill("#api-key", key);
  await tabTo("form.sign-in button[type=submit]");
  await page.keyboard.press("Enter");
  await page.waitForSelector("[data-figure=customers]");
  const stored = await page.evaluate(() => ({
    session: Object.values(sessionStorage),
    local: localStorage.length,
    cookie: document.cookie,
  }));
  ensure("the key is in sessionStorage", stored.session.includes(key));
  ensure("nothing in localStorage", stored.local === 0);
  ensure("no cookie", stored.cookie === "");

  // ---- overview ----
  phase = "overview";
  const latest = await api("ReportsService", "GetReport", {});
  const report = latest.report;
  await page.waitForSelector("figure[data-chart=revenue] canvas");
  await page.waitForSelector("figure[data-chart=segments] canvas");
  expect("customers", (await page.textContent("[data-figure=customers]")).trim(), count(report.total.customers));
  expect("revenue", (await page.textContent("[data-figure=revenue]")).trim(), money(report.total.netSpend));
  expect("equity", (await page.textContent("[data-figure=equity]")).trim(), money(report.total.equity));
  expect("run shown", await page.getAttribute("[data-run-id]", "data-run-id"), latest.run.runId);
  const revenueRows = await page.$$eval("figure[data-chart=revenue] table.chart-data tbody tr",
    (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent.trim())));
  expect("months in the revenue chart", revenueRows.length, report.months.length);
  report.months.forEach((m, i) => {
    expect(`revenue ${m.month}`, revenueRows[i]?.join(" | "), `${m.month} | ${money(m.netSpend)}`);
  });
  const buckets = await texts("figure[data-chart=lifetime-value] table.chart-data tbody tr td");
  expect("lifetime value histogram", buckets.join(","),
    (report.lifetimeValueHistogram ?? []).map((b) => count(b.customers)).join(","));
  ensure("a lifetime value histogram (the test fits the models)", (report.lifetimeValueHistogram ?? []).length > 0);
  ensure("an RFM grid of 25 cells", (report.rfmGrid ?? []).length === 25);
  for (const cell of report.rfmGrid ?? []) {
    const shown = await page.textContent(`td[data-r="${cell.recency}"][data-f="${cell.frequency}"]`);
    expect(`RFM cell R${cell.recency} F${cell.frequency}`, shown.trim(), count(cell.customers));
  }
  const tiers = report.breakdowns.find((b) => b.dimension === "REPORT_DIMENSION_TIER").rows;
  for (const t of tiers) {
    const shown = await page.textContent(`li[data-tier="${t.value}"] [data-customers]`);
    expect(`tier ${t.value}`, shown.trim(), count(t.customers));
  }
  const runs = (await api("ReportsService", "ListReports", { pageSize: 50 })).runs;
  const succeeded = runs.filter((r) => r.state === "REPORT_RUN_STATE_SUCCEEDED");
  expect("points in segments over time", (await texts("figure[data-chart=segments] table.chart-data tbody tr")).length,
    Math.min(12, succeeded.length));
  const lifecycle = report.breakdowns.find((b) => b.dimension === "REPORT_DIMENSION_LIFECYCLE").rows;
  const segmentHead = await texts("figure[data-chart=segments] table.chart-data thead th");
  const segmentLast = await page.$$eval("figure[data-chart=segments] table.chart-data tbody tr:last-child > *",
    (cells) => cells.map((c) => c.textContent.trim()));
  for (const row of lifecycle) {
    expect(`segment ${row.value} at the latest run`, segmentLast[segmentHead.indexOf(row.value)], count(row.customers));
  }
  await shot("overview");

  // ---- customers: Tab to the nav link, Enter follows it ----
  phase = "customers";
  await tabTo('nav a[data-page="customers"]');
  await page.keyboard.press("Enter");
  await page.waitForURL(/#\/customers$/);
  await page.waitForSelector("[data-list=customers] tbody a");
  const firstPage = await api("ProfilesService", "ListCustomers", { pageSize: 25 });
  const listed = await page.$$eval("[data-list=customers] tbody a", (as) => as.map((a) => decodeURIComponent(a.getAttribute("href"))));
  expect("customers listed", listed.join(","), firstPage.customers.map((c) => `#/customers/${c.id}`).join(","));
  await shot("customers");

  // The customer a rule contacted, opened by typing the id and pressing Enter.
  const rules = await all("RulesService", "ListRules", {}, "rules");
  const firings = await all("RulesService", "ListFirings", { ruleId: rules[0].id }, "firings");
  const contacted = firings.find((f) => !f.holdout && (f.actionResults ?? []).some((a) => a.startsWith("notification")));
  ensure("a firing that contacted someone", Boolean(contacted));
  const customerId = contacted.customerId;
  await page.fill("#customer-id", customerId);
  await page.keyboard.press("Enter");
  await page.waitForSelector("[data-figure=net-spend]");
  phase = "customer";
  const { score } = await api("ScoringService", "GetScore", { customerId });
  const { customer } = await api("ProfilesService", "GetCustomer", { customerId });
  const fig = async (k) => (await page.textContent(`[data-figure=${k}]`)).trim();
  expect("customer name", (await page.textContent("h1")).trim(), customer.displayName);
  expect("net spend", await fig("net-spend"), money(score.netSpend));
  expect("purchases", await fig("purchase-count"), count(score.purchaseCount));
  expect("tier", await fig("tier"), score.tier || "none yet");
  expect("lifecycle", await fig("segment"), score.segment || "none");
  expect("P(alive)", await fig("probability-alive"), percent1(score.value.probabilityAlive));
  expect("lifetime value", await fig("lifetime-value"), money(score.value.lifetimeValue));
  expect("explanations", (await texts("table.explanations tbody tr th")).join(","),
    score.explanations.map((e) => e.measure).join(","));
  const transactions = await all("IngestionService", "ListTransactions", { customerId }, "transactions");
  expect("transactions", (await texts("table.transactions tbody tr")).length, transactions.length);
  expect("tags", (await texts("[data-list=tags] li")).join(","), (score.tags ?? []).join(","));
  const customerFirings = await all("RulesService", "ListFirings", { customerId }, "firings");
  expect("firings", (await texts("table.firings tbody tr")).length, customerFirings.length);
  const notifications = await all("NotificationsService", "ListNotifications", { customerId }, "notifications");
  expect("notifications", (await texts("table.notifications tbody tr")).length, Math.max(1, notifications.length));
  ensure("a notification for the contacted customer", notifications.length > 0);
  const { balance } = await api("LoyaltyService", "GetPointsBalance", { customerId });
  expect("points balance", await fig("points-balance"), count(balance.balance ?? 0));
  expect("points earned", await fig("points-earned"), count(balance.earned ?? 0));
  ensure("the customer earned points", Number(balance.earned ?? 0) > 0);
  const pointsLedger = await all("LoyaltyService", "ListPointsLedger", { customerId }, "entries");
  expect("points ledger", (await texts("table.points tbody tr")).length, Math.min(200, pointsLedger.length));
  await page.waitForSelector("figure[data-chart=lifetime-value-by-month] canvas");
  expect("lifetime value months", (await texts("figure[data-chart=lifetime-value-by-month] table.chart-data tbody tr")).length,
    score.value.lifetimeValueByMonth.length);
  await shot("customer");

  // A customer found by a source system's id (the form's fields by label),
  // whose name with markup in it shows as text.
  if (customerName) {
    await page.click('nav a[data-page="customers"]');
    await page.getByLabel("The customer's id in that source").fill("C-TRICKY");
    await page.getByRole("button", { name: "Find" }).press("Enter");
    await page.waitForSelector("[data-figure=net-spend]");
    expect("the customer found by identity", (await page.textContent("h1")).trim(), customerName);
    ensure("no markup from data on the customer page", (await page.$$("h1 b")).length === 0);
  }

  // ---- rules ----
  phase = "rules";
  await tabTo('nav a[data-page="rules"]');
  await page.keyboard.press("Enter");
  await page.waitForSelector("table.rules tbody tr");
  for (const rule of rules) {
    const stats = await api("RulesService", "GetRuleStats", { ruleId: rule.id, windowDays: 30 });
    const cells = await page.$$eval("table.rules tbody tr", (trs, name) => {
      const tr = trs.find((t) => t.firstElementChild.textContent.trim() === name);
      return tr ? [...tr.children].map((c) => c.textContent.trim()) : [];
    }, rule.name);
    expect(`rule ${rule.name}: firings, matched, contacted, control, sent, suppressed`,
      cells.slice(2, 8).join(" | "),
      [stats.firings, stats.customersMatched, stats.customersContacted, stats.holdoutCustomers,
        stats.notificationsSent, stats.notificationsSuppressed].map(count).join(" | "));
  }
  await page.waitForSelector("figure[data-chart=rule-purchases] canvas");
  await shot("rules");

  // ---- reports: every breakdown, months, cohorts, rankings, reactivation, CSV files ----
  phase = "reports";
  await page.click('nav a[data-page="reports"]');
  await page.waitForSelector("table.breakdown tbody tr");
  for (const b of report.breakdowns) {
    await page.selectOption("#breakdown-dimension", b.dimension);
    const rows = await page.$$eval("table.breakdown tbody tr",
      (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent.trim())));
    expect(`${b.dimension}: rows`, rows.map((r) => `${r[0]} ${r[1]} ${r[3]}`).join("; "),
      b.rows.map((r) => `${r.value} ${count(r.customers)} ${money(r.netSpend)}`).join("; "));
  }
  await page.selectOption("#breakdown-dimension", "REPORT_DIMENSION_REGION");
  const [regionCsv] = await Promise.all([page.waitForEvent("download"), page.click("[data-csv=breakdown]")]);
  const regionRows = parseCsv(readFileSync(await regionCsv.path(), "utf8"));
  const regions = report.breakdowns.find((b) => b.dimension === "REPORT_DIMENSION_REGION").rows;
  expect("region CSV header", regionRows[0].slice(0, 4).join(","), "value,customers,purchasers,net_spend");
  expect("region CSV rows", regionRows.slice(1).map((r) => `${r[0]},${r[1]},${r[3]}`).join(";"),
    regions.map((r) => `${r.value},${n(r.customers)},${decimal(r.netSpend)}`).join(";"));

  expect("months table", (await texts("table.months tbody tr th")).join(","), report.months.map((m) => m.month).join(","));
  const [monthsCsv] = await Promise.all([page.waitForEvent("download"), page.click("[data-csv=months]")]);
  const monthRows = parseCsv(readFileSync(await monthsCsv.path(), "utf8"));
  expect("months CSV", monthRows.slice(1).map((r) => `${r[0]}=${r[1]}`).join(";"),
    report.months.map((m) => `${m.month}=${decimal(m.netSpend)}`).join(";"));
  expect("cohorts table", (await texts("table.cohorts tbody tr th")).join(","), report.cohorts.map((c) => c.cohort).join(","));

  // The first ranking is by net spend: the customer named with a comma,
  // quotes and markup leads it, shown as text and quoted in the CSV.
  const ranking = report.rankings[0];
  expect("first ranking", (await texts("table.ranking tbody tr td a")).join(" | "),
    ranking.customers.map((c) => c.displayName || c.customerId).join(" | "));
  if (customerName) {
    expect("the tricky name is shown as text", (await texts("table.ranking tbody tr td a"))[0], customerName);
    ensure("no markup from data", (await page.$$("table.ranking b")).length === 0);
  }
  const [rankingCsv] = await Promise.all([page.waitForEvent("download"), page.click("[data-csv=ranking]")]);
  const rankingText = readFileSync(await rankingCsv.path(), "utf8");
  const rankingRows = parseCsv(rankingText);
  expect("ranking CSV names", rankingRows.slice(1).map((r) => r[2]).join(" | "),
    ranking.customers.map((c) => c.displayName ?? "").join(" | "));
  if (customerName) {
    ensure(`the ranking CSV quotes the tricky name (RFC 4180): ${rankingText.split("\r\n")[1]}`,
      rankingText.includes(`,"${customerName.replaceAll('"', '""')}",`));
  }

  // The reactivation list: every row and its CSV against GetReport's list
  // (the test's data has repeat buyers who stopped long ago, so it is not
  // empty).
  const lapsing = report.reactivation ?? [];
  ensure("a reactivation list (repeat buyers who stopped, with fitted models)", lapsing.length > 0);
  ensure("no empty-list sentence beside a list", (await page.$$("[data-empty=reactivation]")).length === 0);
  const lapsingRows = await page.$$eval("table.reactivation tbody tr",
    (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent.trim())));
  expect("reactivation rows", lapsingRows.length, lapsing.length);
  lapsing.forEach((e, i) => {
    expect(`reactivation row ${i + 1}`, lapsingRows[i]?.join(" | "), [
      String(i + 1), e.displayName || e.customerId, money(e.value), percent1(e.probabilityAlive),
      money(e.lifetimeValue), money(e.pastValue), count(e.daysSinceLastPurchase), count(e.purchases), e.reason ?? "",
    ].join(" | "));
  });
  expect("reactivation links", (await page.$$eval("table.reactivation tbody a",
    (as) => as.map((a) => decodeURIComponent(a.getAttribute("href"))))).join(","),
  lapsing.map((e) => `#/customers/${e.customerId}`).join(","));
  ensure("the reactivation table's headers have scopes",
    (await page.$$("table.reactivation th:not([scope])")).length === 0);
  const [lapsingCsv] = await Promise.all([page.waitForEvent("download"), page.click("[data-csv=reactivation]")]);
  const lapsingCsvRows = parseCsv(readFileSync(await lapsingCsv.path(), "utf8"));
  expect("reactivation CSV header", lapsingCsvRows[0].join(","),
    "rank,customer_id,display_name,value_at_risk,probability_alive,lifetime_value,past_value,"
      + "days_since_last_purchase,purchases,reason,currency");
  expect("reactivation CSV rows", lapsingCsvRows.slice(1).map((r) => r.join(" | ")).join("\n"),
    lapsing.map((e, i) => [
      i + 1, e.customerId, e.displayName ?? "", decimal(e.value), String(n(e.probabilityAlive)),
      decimal(e.lifetimeValue), decimal(e.pastValue), n(e.daysSinceLastPurchase), n(e.purchases), e.reason ?? "",
      report.currencyCode,
    ].join(" | ")).join("\n"));

  // The up-sell list: its rows against GetReport's list, or the sentence
  // saying it is empty.
  const upsell = report.upsell ?? [];
  const upsellRows = await page.$$eval("table.upsell tbody tr",
    (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent.trim())));
  expect("up-sell rows", upsellRows.length, upsell.length);
  expect("the up-sell empty-list sentence only without a list",
    (await page.$$("[data-empty=upsell]")).length, upsell.length ? 0 : 1);
  upsell.forEach((e, i) => {
    expect(`up-sell row ${i + 1}`, upsellRows[i]?.join(" | "), [
      String(i + 1), e.displayName || e.customerId, money(e.value), money(e.orderValue),
      count(e.purchasesLast12Months), count(e.purchases), count(e.daysSinceLastPurchase), e.reason ?? "",
    ].join(" | "));
  });
  if (upsell.length) {
    ensure("the up-sell table's headers have scopes", (await page.$$("table.upsell th:not([scope])")).length === 0);
    const [upsellCsv] = await Promise.all([page.waitForEvent("download"), page.click("[data-csv=upsell]")]);
    const upsellCsvRows = parseCsv(readFileSync(await upsellCsv.path(), "utf8"));
    expect("up-sell CSV rows", upsellCsvRows.slice(1).map((r) => r.join(" | ")).join("\n"),
      upsell.map((e, i) => [
        i + 1, e.customerId, e.displayName ?? "", decimal(e.value), decimal(e.orderValue),
        n(e.purchasesLast12Months), n(e.purchases), n(e.daysSinceLastPurchase), e.reason ?? "", report.currencyCode,
      ].join(" | ")).join("\n"));
  }

  // Category affinity and the cross-sell list: the demo's customers buy by
  // taste (groceries with home, apparel with electronics), so both are
  // there; every row and its CSV against GetReport.
  const number2 = (x) => new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 2 }).format(n(x));
  const pairs = report.categoryAffinity ?? [];
  ensure("category pairs (the sample's customers buy by taste)", pairs.length > 0);
  const pairRows = await page.$$eval("table.affinity tbody tr",
    (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent.trim())));
  expect("affinity rows", pairRows.length, pairs.length);
  pairs.forEach((p, i) => {
    expect(`affinity row ${i + 1}`, pairRows[i]?.join(" | "), [
      p.category, p.alsoBought, count(p.customers), count(p.categoryCustomers), count(p.alsoBoughtCustomers),
      percent1(p.support), percent1(p.confidence), number2(p.lift),
    ].join(" | "));
    ensure(`affinity row ${i + 1} has a lift above 1`, n(p.lift) > 1);
  });
  const [pairCsv] = await Promise.all([page.waitForEvent("download"), page.click("[data-csv=affinity]")]);
  const pairCsvRows = parseCsv(readFileSync(await pairCsv.path(), "utf8"));
  expect("affinity CSV header", pairCsvRows[0].join(","),
    "category,also_bought,customers,category_customers,also_bought_customers,support,confidence,lift");
  expect("affinity CSV rows", pairCsvRows.slice(1).map((r) => r.join(" | ")).join("\n"),
    pairs.map((p) => [
      p.category, p.alsoBought, n(p.customers), n(p.categoryCustomers), n(p.alsoBoughtCustomers),
      String(n(p.support)), String(n(p.confidence)), String(n(p.lift)),
    ].join(" | ")).join("\n"));
  const crossSell = report.crossSell ?? [];
  ensure("a cross-sell list", crossSell.length > 0);
  ensure("the cross-sell table's headers have scopes", (await page.$$("table.cross-sell th:not([scope])")).length === 0);
  const crossRows = await page.$$eval("table.cross-sell tbody tr",
    (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent.trim())));
  expect("cross-sell rows", crossRows.length, crossSell.length);
  crossSell.forEach((e, i) => {
    expect(`cross-sell row ${i + 1}`, crossRows[i]?.join(" | "), [
      String(i + 1), e.displayName || e.customerId, money(e.value), e.recommendedCategory, e.boughtCategory,
      percent1(e.confidence), number2(e.lift), money(e.orderValue), e.reason ?? "",
    ].join(" | "));
  });
  const [crossCsv] = await Promise.all([page.waitForEvent("download"), page.click("[data-csv=cross-sell]")]);
  const crossCsvRows = parseCsv(readFileSync(await crossCsv.path(), "utf8"));
  expect("cross-sell CSV rows", crossCsvRows.slice(1).map((r) => r.join(" | ")).join("\n"),
    crossSell.map((e, i) => [
      i + 1, e.customerId, e.displayName ?? "", decimal(e.value), decimal(e.orderValue), e.boughtCategory,
      e.recommendedCategory, String(n(e.confidence)), String(n(e.lift)), String(n(e.support)), n(e.purchases),
      n(e.daysSinceLastPurchase), e.reason ?? "", report.currencyCode,
    ].join(" | ")).join("\n"));
  // One customer's likely categories (GetCrossSell) agree with the list.
  const first = crossSell[0];
  const likely = await api("ReportsService", "GetCrossSell", { customerId: first.customerId });
  expect("GetCrossSell's first pick is the list's", `${likely.candidates?.[0]?.category} -> ${likely.candidates?.[0]?.alsoBought}`,
    `${first.boughtCategory} -> ${first.recommendedCategory}`);
  await shot("reports");

  // ---- a new report run from the Overview, followed to its end ----
  phase = "refresh";
  await page.click('nav a[data-page="overview"]');
  await page.waitForSelector("[data-action=refresh-report]");
  await tabTo("[data-action=refresh-report]");
  await page.keyboard.press("Enter");
  await page.waitForFunction((old) => {
    const el = document.querySelector("[data-run-id]");
    return el && el.dataset.runId && el.dataset.runId !== old;
  }, latest.run.runId, { timeout: 120000 });
  await page.waitForSelector("figure[data-chart=segments] canvas");
  const after = (await api("ReportsService", "ListReports", { pageSize: 50 })).runs
    .filter((r) => r.state === "REPORT_RUN_STATE_SUCCEEDED");
  expect("runs after the refresh", after.length, succeeded.length + 1);
  expect("the new run is shown", await page.getAttribute("[data-run-id]", "data-run-id"), after[0].runId);
  expect("points in segments over time after the refresh",
    (await texts("figure[data-chart=segments] table.chart-data tbody tr")).length, Math.min(12, after.length));
  ensure("the run's end is announced", /Report updated/.test(await page.textContent("[data-run-status]")));
  await shot("overview-refreshed");

  phase = "sign out";
  await page.click("#sign-out");
  await page.waitForSelector("#api-key");
  ensure("signing out forgets the key", (await page.evaluate(() => sessionStorage.length)) === 0);
} catch (e) {
  mismatches.push(`stopped in ${phase}: ${e.stack ?? e}`);
  await shot(`failed-${phase.replaceAll(" ", "-")}`).catch(() => {});
} finally {
  await browser.close();
}

ensure("the wrong key's 401 was seen on the console (the error watch works)", expectedRefusals.length > 0);
const failures = [...mismatches, ...problems];
if (failures.length) {
  console.error(`${failures.length} problem(s):\n- ${failures.join("\n- ")}`);
  process.exit(1);
}
console.log(JSON.stringify({ checks, screenshots: shots }));
