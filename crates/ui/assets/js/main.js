// The dashboard's entry: sign-in, the page router (hash routes, so the
// server serves one page) and the error banner.

import { ApiError, onKeyRefused, session } from "./api.js";
import { fill, h } from "./dom.js";
import * as customer from "./pages/customer.js";
import * as customers from "./pages/customers.js";
import * as overview from "./pages/overview.js";
import * as reports from "./pages/reports.js";
import * as rules from "./pages/rules.js";
import * as signin from "./pages/signin.js";

const ROUTES = [
  { re: /^#\/overview$/, page: overview, nav: "overview" },
  { re: /^#\/customers$/, page: customers, nav: "customers" },
  { re: /^#\/customers\/([^/?]+)$/, page: customer, nav: "customers" },
  { re: /^#\/rules$/, page: rules, nav: "rules" },
  { re: /^#\/reports$/, page: reports, nav: "reports" },
];

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const signOut = document.getElementById("sign-out");
const alertBox = document.getElementById("alert");

/** Shows what went wrong, in the server's words. */
export function showError(e) {
  alertBox.textContent = e instanceof ApiError ? e.describe() : String(e?.message ?? e);
  alertBox.hidden = false;
}

function clearError() {
  alertBox.textContent = "";
  alertBox.hidden = true;
}

let firstRender = true;

async function route() {
  clearError();
  const signedIn = Boolean(session.key());
  nav.hidden = !signedIn;
  signOut.hidden = !signedIn;
  if (!signedIn) {
    document.title = "Sign in · Rapport dashboard";
    signin.render(main, { onSignedIn: () => go("#/overview") });
    return;
  }
  const hash = location.hash || "#/overview";
  const route = ROUTES.find((r) => r.re.test(hash));
  if (!route) {
    location.replace("#/overview");
    return;
  }
  for (const a of nav.querySelectorAll("a")) {
    if (a.dataset.page === route.nav) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const args = hash.match(route.re).slice(1).map(decodeURIComponent);
  // Each page draws into its own view: a slow page the user has left draws
  // into a view no longer shown.
  const view = h("div", { class: "view", "aria-busy": "true" });
  fill(main, view);
  document.title = `${route.page.title} · Rapport dashboard`;
  if (!firstRender) main.focus();
  firstRender = false;
  try {
    await route.page.render(view, ...args);
  } catch (e) {
    if (view.isConnected) showError(e);
  } finally {
    view.removeAttribute("aria-busy");
  }
}

function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

signOut.addEventListener("click", () => {
  session.signOut();
  go("#/");
});

onKeyRefused((e) => {
  // Only a key in use: a key being tried at sign-in says so on the form.
  if (!session.key()) return;
  session.signOut();
  route().then(() => showError(`The server refused the key, so you are signed out (${e.describe()}).`));
});

window.addEventListener("hashchange", route);
route();
