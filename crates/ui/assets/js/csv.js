// CSV made in the browser from the JSON the page already has (RFC 4180:
// CRLF line ends, a field quoted when it holds a comma, a quote, CR or LF,
// quotes doubled inside), and handed to the user as a download.

/** One field. Text that a spreadsheet would run as a formula is defused. */
export function field(value) {
  if (value === null || value === undefined) return "";
  let text = String(value);
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(text) && !/^-?\d+(\.\d+)?$/.test(text)) {
    // "=HYPERLINK(...)" in a customer's name must stay text in Excel.
    text = `'${text}`;
  }
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A whole file: a header line, then one line per row, each ending in CRLF. */
export function toCsv(header, rows) {
  return [header, ...rows].map((row) => row.map(field).join(",") + "\r\n").join("");
}

/** Offers `text` as the download `filename`. */
export function download(filename, text) {
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
