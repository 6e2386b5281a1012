// Numbers, money and times as people read them, in the browser's locale.
// Money arrives as { currencyCode, minorUnits } with minorUnits a string
// (64-bit integers are strings in proto3 JSON); fields equal to zero are
// left out of the JSON, so every reader here takes a missing value as 0.

const digitsCache = new Map();

/** The number of minor-unit digits of an ISO 4217 currency (EUR 2, JPY 0). */
export function fractionDigits(currency) {
  if (!digitsCache.has(currency)) {
    let digits = 2;
    try {
      digits = new Intl.NumberFormat("en", { style: "currency", currency })
        .resolvedOptions().maximumFractionDigits;
    } catch {
      // Not a currency Intl knows: two digits, as most have.
    }
    digitsCache.set(currency, digits);
  }
  return digitsCache.get(currency);
}

/** The integer minor units of a Money (0 when missing), as a BigInt. */
export function minor(money) {
  return BigInt(money?.minorUnits ?? 0);
}

/** A Money in major units as a Number (for charts and ratios). */
export function major(money, currency = money?.currencyCode) {
  return Number(money?.minorUnits ?? 0) / 10 ** fractionDigits(currency || "EUR");
}

/** A Money formatted with its currency, e.g. "€1,234.50". */
export function money(m, fallbackCurrency = "EUR") {
  const currency = m?.currencyCode || fallbackCurrency;
  return new Intl.NumberFormat(undefined, { style: "currency", currency })
    .format(major(m, currency));
}

/**
 * A Money as an exact decimal in major units ("-1234.50"), computed on the
 * integer, for CSV files a spreadsheet reads.
 */
export function decimal(m, fallbackCurrency = "EUR") {
  const digits = fractionDigits(m?.currencyCode || fallbackCurrency);
  const units = minor(m);
  const sign = units < 0n ? "-" : "";
  const abs = (units < 0n ? -units : units).toString().padStart(digits + 1, "0");
  if (digits === 0) return sign + abs;
  return `${sign}${abs.slice(0, -digits)}.${abs.slice(-digits)}`;
}

/** A count (a string or number in the JSON; missing is 0). */
export function count(n) {
  return new Intl.NumberFormat().format(Number(n ?? 0));
}

/** A number with at most `digits` decimals. */
export function number(x, digits = 2) {
  return new Intl.NumberFormat(undefined, { maximumFractionDigits: digits })
    .format(Number(x ?? 0));
}

/** A share (0.25) as a percentage ("25.0%"). */
export function percent(x, digits = 1) {
  return new Intl.NumberFormat(undefined, {
    style: "percent", minimumFractionDigits: digits, maximumFractionDigits: digits,
  }).format(Number(x ?? 0));
}

/** An RFC 3339 time as a date, in UTC (the server's months are UTC). */
export function date(ts) {
  if (!ts) return "";
  return new Date(ts).toLocaleDateString(undefined, {
    year: "numeric", month: "short", day: "numeric", timeZone: "UTC",
  });
}

/** An RFC 3339 time as date and time, in UTC. */
export function dateTime(ts) {
  if (!ts) return "";
  return new Date(ts).toLocaleString(undefined, {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
    timeZone: "UTC", timeZoneName: "short",
  });
}

/** An enum value's name for people: "REPORT_DIMENSION_AGE_BAND" → "Age band". */
export function enumLabel(value, prefix) {
  const rest = String(value ?? "").replace(prefix, "").toLowerCase().replaceAll("_", " ");
  return rest.charAt(0).toUpperCase() + rest.slice(1);
}

/** An amount already in major units (a chart's value) with its currency. */
export function moneyOf(value, currency = "EUR") {
  return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(Number(value ?? 0));
}
