// Sign-in: the user pastes a tenant's API key. It is tried with one cheap
// call before it is kept (in sessionStorage, see api.js).

import { call, describe, session } from "../api.js";
import { fill, h } from "../dom.js";

export const title = "Sign in";

export function render(main, { onSignedIn }) {
  const input = h("input", {
    id: "api-key",
    name: "api-key",
    type: "password",
    autocomplete: "off",
    spellcheck: "false",
    required: true,
    "aria-describedby": "api-key-help",
  });
  const error = h("p", { id: "sign-in-error", class: "error", role: "alert" });
  const button = h("button", { type: "submit", class: "primary" }, "Sign in");
  const form = h("form", { class: "sign-in", "aria-labelledby": "sign-in-title" },
    h("h1", { id: "sign-in-title" }, "Sign in to the Rapport dashboard"),
    h("label", { for: "api-key" }, "API key"),
    input,
    h("p", { id: "api-key-help", class: "muted" },
      "A tenant's API key (rpk_…), as `rapport tenant create` or CreateApiKey printed it. ",
      "It is kept in this tab only, and forgotten when the tab closes."),
    button,
    error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) return;
    button.disabled = true;
    error.textContent = "";
    try {
      await call("ProfilesService", "ListCustomers", { pageSize: 1 }, key);
      session.signIn(key);
      input.value = "";
      onSignedIn();
    } catch (e) {
      error.textContent = `Not signed in: ${describe(e)}`;
      input.focus();
      input.select();
    } finally {
      button.disabled = false;
    }
  });
  fill(main, form);
  input.focus();
}
