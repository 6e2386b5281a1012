// Calls to Rapport's JSON API (the Connect protocol's unary JSON) on the
// origin that served the page, with the API key the user signed in with.
//
// The key lives in sessionStorage only: gone when the tab closes, never in
// persistent storage or a cookie, never sent anywhere but this origin's API.

const KEY = "rapport.apiKey";

export const session = {
  key: () => sessionStorage.getItem(KEY),
  signIn: (key) => sessionStorage.setItem(KEY, key),
  signOut: () => sessionStorage.removeItem(KEY),
};

/** An error the server answered with: its Connect code and message. */
export class ApiError extends Error {
  constructor(code, message, status, details) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.status = status;
    this.details = details ?? [];
  }

  /** The message with each refused field, as a person reads it. */
  describe() {
    const fields = this.details
      .flatMap((d) => d.debug?.fieldViolations ?? [])
      .map((v) => `${v.field}: ${v.description}`);
    const text = `${this.code}: ${this.message}`;
    return fields.length ? `${text} (${fields.join("; ")})` : text;
  }
}

/** Listeners told when the server refuses the key (to sign out). */
const refusedListeners = [];
export function onKeyRefused(listener) {
  refusedListeners.push(listener);
}

/**
 * Calls `rapport.v1.<service>/<method>` with `body`; the answer's JSON, or
 * an ApiError with the server's code and message.
 */
export async function call(service, method, body = {}, key = session.key()) {
  let res;
  try {
    res = await fetch(`/rapport.v1.${service}/${method}`, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Authorization: `Bearer ${key ?? ""}`,
      },
      body: JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    });
  } catch (e) {
    throw new ApiError("unavailable", `the server could not be reached (${e.message})`, 0);
  }
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    // Not JSON: a proxy's error page, say; the status says enough.
  }
  if (!res.ok) {
    const err = new ApiError(json?.code ?? "unknown", json?.message ?? `HTTP ${res.status}`,
      res.status, json?.details);
    if (err.code === "unauthenticated") refusedListeners.forEach((l) => l(err));
    throw err;
  }
  return json ?? {};
}

/**
 * Every item of a paged list: calls `method` page after page (`pageSize`,
 * `pageToken`) and collects `field`, up to `max` items.
 */
export async function all(service, method, body, field, max = 1000) {
  const items = [];
  let pageToken = "";
  do {
    const page = await call(service, method, { ...body, pageSize: 100, pageToken });
    items.push(...(page[field] ?? []));
    pageToken = page.nextPageToken ?? "";
  } while (pageToken && items.length < max);
  return items.slice(0, max);
}

/** A fresh idempotency key for a mutating call. */
export function requestId() {
  // crypto.randomUUID exists only in secure contexts; a dashboard reached
  // over plain HTTP on a LAN address is not one.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Any error as a person reads it. */
export function describe(e) {
  return e instanceof ApiError ? e.describe() : String(e?.message ?? e);
}
