// What the page calls things: short node names, numbers in formulas, errors in words.
import { fmt } from "../shared/format.js";
import { has, t } from "../shared/i18n.js";

const SHORT_LABEL = 10; // a node's own text is its name up to this many characters

/**
 * A display name per node: its name; its text in the expression when short; for a built
 * graph (no text) its inputs' names around its symbol when short ("w1×a1"); else v₁, v₂…
 * in forward order.
 */
export function nodeNames(graph, ops) {
  let k = 0;
  const names = [];
  for (const n of graph.nodes) {
    let name;
    if (n.id === graph.output && graph.output_name) name = graph.output_name;
    else if (n.name) name = n.name;
    else if (n.op === "const") name = n.label;
    else if (n.span && n.label.length <= SHORT_LABEL) name = n.label.replaceAll(" ", "");
    else if (!n.span && n.inputs.length === 2) {
      const composed = `${names[n.inputs[0]]}${opSymbol(ops, n.op)}${names[n.inputs[1]]}`;
      if (composed.length <= SHORT_LABEL && n.inputs.every((i) => graph.nodes[i].op === "leaf")) name = composed;
    }
    if (name === undefined) {
      k += 1;
      name = `v${subscript(k)}`;
    }
    names.push(name);
  }
  return names;
}

export function subscript(k) {
  return String(k).replace(/\d/g, (d) => "₀₁₂₃₄₅₆₇₈₉"[Number(d)]);
}

export function superscript(k) {
  return String(k).replace(/[\d-]/g, (d) => (d === "-" ? "⁻" : "⁰¹²³⁴⁵⁶⁷⁸⁹"[Number(d)]));
}

/** A name inside ∂L/∂…: bracketed unless it is one symbol. */
export function dname(name) {
  return /^[\p{L}\p{N}_₀-₉⁰-⁹−]+$/u.test(name) ? name : `(${name})`;
}

/** A number in a formula: negatives in brackets. */
export function num(x, digits = 4) {
  const s = fmt(x, digits);
  return s.startsWith("−") ? `(${s})` : s;
}

/** The op's symbol as the server lists it (/api/graph/info), for drawing and formulas. */
export function opSymbol(ops, op) {
  return ops.get(op)?.symbol ?? op;
}

function param(v) {
  return typeof v === "number" ? fmt(v) : String(v);
}

/** An engine error ({code, message, params}) in the reader's language. */
export function errorText(error) {
  if (!error) return "";
  const params = Object.fromEntries(Object.entries(error.params ?? {}).map(([k, v]) => [k, param(v)]));
  const key = `graph.err.${error.code}`;
  return has(key) ? t(key, params) : error.message;
}

/** A refused request (HTTP 422 detail) in words: "b: must be a finite number". */
export function refusedText(detail) {
  if (!Array.isArray(detail)) return String(detail ?? "");
  return detail
    .map((d) => {
      const where = (d.loc ?? []).filter((p) => p !== "body" && p !== "query").join(".");
      return where ? `${where}: ${d.msg}` : d.msg;
    })
    .join("; ");
}

/** An exact count ({exact, log10} or a number) as text: grouped digits, or m × 10ⁿ. */
export function countText(count, lang) {
  const exact = typeof count === "object" && count !== null ? count.exact : String(count);
  if (!/^\d+$/.test(exact ?? "")) return "—";
  if (exact.length <= 12) return Number(exact).toLocaleString(lang === "zh" ? "zh-CN" : "en-US");
  const mantissa = `${exact[0]}.${exact.slice(1, 3)}`;
  return `${mantissa} × 10${superscript(exact.length - 1)}`;
}

/** log10 of a count ({exact, log10} or a number). */
export function countLog(count) {
  if (typeof count === "object" && count !== null) return count.log10 ?? 0;
  return count > 0 ? Math.log10(count) : 0;
}
