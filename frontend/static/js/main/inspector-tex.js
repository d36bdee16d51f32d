// The inspector's pieces of KaTeX and DOM: aligned sums, numbers in parentheses, matrices
// cut to a readable size, the table of raw values. Display only: no network math here.
import { fmt, tex } from "../shared/format.js";

/** Terms of a sum shown before "show all n terms" (the rest stays folded until asked). */
export const TERMS_FOLDED = 8;

/** Matrices and vectors larger than this (rows or columns) are cut with ⋯ / ⋮ / ⋱. */
export const MATRIX_MAX = 6;

/** `lhs = line1 \\ = line2 …`, aligned on "=" (lines starting with "+" continue a sum). */
export function aligned(lhs, lines) {
  const rows = lines.map((line, k) => {
    const cont = line.startsWith("+");
    return `${k === 0 ? lhs : ""} &${cont ? "\\quad " : "= "}${line}`;
  });
  return `\\begin{aligned}${rows.join(" \\\\ ")}\\end{aligned}`;
}

/** A sum split one product per line (["a", "+ b", "+ … + bias"]), so it fits the panel. */
export function sumLines(parts) {
  const lines = [];
  let shortRun = false;
  for (const part of parts) {
    const short = part === "\\cdots" || !part.includes("\\cdot");
    if (lines.length && short && shortRun) lines[lines.length - 1] += ` + ${part}`;
    else lines.push(lines.length ? `+ ${part}` : part);
    shortRun = short;
  }
  return lines;
}

/** A number for a formula, in parentheses when negative. */
export function paren(x) {
  const s = tex(x);
  return s.startsWith("-") ? `(${s})` : s;
}

/** An activation's name as a formula writes it. */
export function texName(act) {
  return { leaky_relu: "LeakyReLU", relu: "ReLU", elu: "ELU", silu: "SiLU", sigmoid: "\\sigma", softmax: "softmax" }[act] ?? act;
}

/**
 * The products of a sum in index order, each labelled with its symbols underneath
 * (`\underset{w_{11}x_1}{0.5\cdot 1.2}`): all of them, or the first TERMS_FOLDED and "⋯".
 * `terms`: [{i, w, v}] with `w` the weight and `v` what it multiplies; `label(i)` the symbols.
 */
export function productParts(terms, label, all) {
  const shown = all ? terms : terms.slice(0, TERMS_FOLDED);
  const parts = shown.map((x) => `\\underset{${label(x.i)}}{${paren(x.w)}\\cdot${paren(x.v)}}`);
  if (shown.length < terms.length) parts.push("\\cdots");
  return parts;
}

/**
 * A matrix (rows of numbers) as a KaTeX pmatrix, cut to MATRIX_MAX rows and columns: the
 * first ones, then ⋯ / ⋮ (and ⋱), then the last. `null` entries print as "—".
 */
export function matrixTex(rows) {
  const pick = (n) => (n <= MATRIX_MAX ? [...Array(n).keys()] : [...[...Array(MATRIX_MAX - 2).keys()], -1, n - 1]);
  const r = pick(rows.length);
  const c = pick(rows[0]?.length ?? 0);
  const body = r.map((i) =>
    c
      .map((j) => {
        if (i < 0 && j < 0) return "\\ddots";
        if (i < 0) return "\\vdots";
        if (j < 0) return "\\cdots";
        return tex(rows[i][j], 3);
      })
      .join(" & "),
  );
  return `\\begin{pmatrix}${body.join(" \\\\ ")}\\end{pmatrix}`;
}

/** A column vector written on one line, transposed: (v₁, v₂, …)ᵀ, cut like a matrix row. */
export function vectorTex(values) {
  const n = values.length;
  const idx = n <= MATRIX_MAX ? [...Array(n).keys()] : [...[...Array(MATRIX_MAX - 2).keys()], -1, n - 1];
  return `\\big(${idx.map((i) => (i < 0 ? "\\cdots" : tex(values[i], 3))).join(",\\ ")}\\big)^{\\!\\top}`;
}

/** `(r×c)` for a shape under a matrix. */
export function shapeTex(r, c) {
  return `{\\scriptstyle ${r}\\times ${c}}`;
}

export function element(tag, className, text) {
  const node = document.createElement(tag);
  node.className = className;
  node.textContent = text;
  return node;
}

/** The numbers of the selection, one row each: [key, label, value]; the raw value is kept for tests. */
export function valuesTable(rows) {
  const table = document.createElement("table");
  table.className = "inspector-values";
  for (const [key, label, value] of rows) {
    const tr = document.createElement("tr");
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = label;
    const td = document.createElement("td");
    td.dataset.key = key;
    td.dataset.value = value === null || value === undefined ? "" : String(value);
    td.textContent = fmt(value);
    tr.append(th, td);
    table.appendChild(tr);
  }
  return table;
}

/** Whether a string holds Greek letters (CSS upper-casing would turn δ into Δ). */
export function hasGreek(text) {
  return /[\u0370-\u03ff\u1f00-\u1fff]/.test(text);
}

const FIT_LEAST = 0.75; // a formula a little wider than the panel is set this much smaller at most

/**
 * A formula a little wider than the panel ("∂L/∂w = f′(z) Σ w δ · a" in presentation mode's
 * type on a projector) is set in type just small enough to fit, down to `FIT_LEAST` of its
 * size; a wider one keeps its size. Fitted once per panel width, and again when it no longer
 * fits (its numbers changed, or KaTeX's fonts came after it was measured).
 */
function fit(f) {
  const width = f.clientWidth;
  if (!width) return;
  if (f.dataset.fitWidth === String(width) && f.scrollWidth <= width + 1) return;
  f.dataset.fitWidth = String(width);
  f.style.fontSize = "";
  const over = f.scrollWidth / width;
  if (over <= 1 || over > 1 / FIT_LEAST) return;
  const size = parseFloat(getComputedStyle(f).fontSize);
  f.style.fontSize = `${((size * 0.99) / over).toFixed(2)}px`;
}

const shape = (f) => f.dataset.tex.replace(/[-−+\d.e]+/g, "#"); // a formula without its numbers

/**
 * The same formula rebuilt with new numbers (every frame while playing) starts in the type
 * its predecessor was fitted to, so that it does not show at full size, cut, until the next
 * fitting pass.
 */
export function inheritFit(old, node) {
  if (!old.matches?.(".formula") || !node.matches?.(".formula") || !old.dataset.fitWidth) return;
  if (shape(old) !== shape(node)) return;
  node.dataset.fitWidth = old.dataset.fitWidth;
  node.style.fontSize = old.style.fontSize;
}

/**
 * Formulas wider than the panel, once fitted (they scroll sideways in their own box), become
 * tab stops named `label`, so that a keyboard scrolls them too; the others stay out of the
 * Tab order.
 */
export function markWide(container, label) {
  for (const f of container.querySelectorAll(".formula")) {
    fit(f);
    const wide = f.scrollWidth > f.clientWidth + 1;
    if (wide && (f.getAttribute("tabindex") !== "0" || f.getAttribute("aria-label") !== label)) {
      f.tabIndex = 0;
      f.setAttribute("role", "group");
      f.setAttribute("aria-label", label);
    } else if (!wide && f.hasAttribute("tabindex") && document.activeElement !== f) {
      f.removeAttribute("tabindex");
      f.removeAttribute("role");
      f.removeAttribute("aria-label");
    }
  }
}

/**
 * The focus `focused` had in the block `old`, given to the same control in its successor
 * `node`: a formula (scrolled as far, `scrollLeft`), or a fold button reached by keyboard (after a click,
 * the focus is let go, so that Space plays).
 */
export function refocus(focused, old, node, scrollLeft) {
  let target = null;
  if (focused === old && old.matches(".formula") && node.matches(".formula")) {
    target = node;
    node.tabIndex = 0; // markWide names it
  } else if (focused.dataset?.toggle && focused.matches(":focus-visible")) {
    target = node.querySelector(`button[data-toggle="${CSS.escape(focused.dataset.toggle)}"]`);
  }
  target?.focus({ preventScroll: true });
  if (target === node) node.scrollLeft = scrollLeft;
}
