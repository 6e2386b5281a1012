// Building the page from data without ever parsing data as HTML: every text
// goes in as a text node, so a customer's name cannot become markup.

/**
 * An element: h("a", { href: "#/rules", class: "nav" }, "Rules", child...).
 * Attributes whose value is null, undefined or false are left out; `true`
 * sets an empty attribute. Children may be strings, numbers, nodes, arrays
 * of them, or null (skipped).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2).toLowerCase(), value);
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.append(child);
    else el.append(document.createTextNode(String(child)));
  }
}

/** Replaces everything inside `el` with `children`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let ids = 0;
/** A fresh id for tying a label or caption to its element. */
export function uid(prefix = "id") {
  ids += 1;
  return `${prefix}-${ids}`;
}

/**
 * A table with a caption, column headers (<th scope="col">) and rows whose
 * first cell is a row header (<th scope="row">). `columns` are
 * { label, numeric }; `rows` are arrays of cells (text, node, or
 * { text, title, className }).
 */
export function table(caption, columns, rows, opts = {}) {
  const head = h("tr", {}, columns.map((c) =>
    h("th", { scope: "col", class: c.numeric ? "num" : null }, c.label)));
  const body = rows.map((row) => h("tr", {}, row.map((cell, i) => {
    const tag = i === 0 && opts.rowHeaders !== false ? "th" : "td";
    const plain = cell !== null && typeof cell === "object" && !(cell instanceof Node);
    const classes = [columns[i]?.numeric ? "num" : null, plain ? cell.className : null]
      .filter(Boolean).join(" ") || null;
    return h(tag, {
      scope: tag === "th" ? "row" : null,
      class: classes,
      title: plain ? cell.title : null,
    }, plain ? cell.text : cell);
  })));
  const t = h("table", { class: opts.className ?? "data" },
    h("caption", {}, caption),
    h("thead", {}, head),
    h("tbody", {}, body.length ? body : h("tr", {}, h("td", { colspan: columns.length }, opts.empty ?? "Nothing yet."))));
  return h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": caption }, t);
}

/** A labelled figure: a term and its value, for the key numbers of a page. */
export function figure(label, value, key) {
  return h("div", { class: "kpi" },
    h("dt", {}, label),
    h("dd", { "data-figure": key ?? null }, value));
}

/** A section with a heading of `level` and the given children. */
export function section(title, ...children) {
  const id = uid("sec");
  return h("section", { "aria-labelledby": id },
    h("h2", { id }, title), ...children);
}
