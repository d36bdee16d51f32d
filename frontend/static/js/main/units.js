// The data's own names and units on the page. The network sees standardized inputs (and, for
// regression, a standardized target: the topology's `data.scaling`); people read area in m²
// and price in thousands. These helpers name each input (a CSV's column, a built-in set's
// feature in the reader's language, else x₁, x₂ …) and turn network units back into the
// data's for axes and read-outs. Display only.
import { fmt } from "../shared/format.js";
import { has, t } from "../shared/i18n.js";

const SUB = "₀₁₂₃₄₅₆₇₈₉";
export const subscript = (n) => String(n).replace(/\d/g, (d) => SUB[d]);
const SUP = "⁰¹²³⁴⁵⁶⁷⁸⁹";
export const superscript = (n) => String(n).replace(/\d/g, (d) => SUP[d]);

/**
 * The name of the network's input `i` (0-based): the CSV's column, a named feature, else
 * x₁, x₂, …; with input features (x₁², sin(x₁) …, `data.features`), the feature's name with
 * the two inputs' names in the reader's language.
 */
export function featureLabel(data, i) {
  if (!data?.features?.length) return inputLabel(data, i);
  const name = String(data.feature_names?.[i] ?? data.features[i] ?? "");
  const inputs = data.input_names ?? [];
  const words = inputs.map((_, k) => inputLabel(data, k));
  const named = inputs.map((n, k) => ({ n, k })).filter(({ n, k }) => n && n !== words[k]);
  if (!named.length) return name;
  const escape = (w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const pattern = new RegExp(named.map(({ n }) => escape(n)).join("|"), "g");
  return name.replace(pattern, (n) => words[named.find((x) => x.n === n).k]);
}

/**
 * The name of the data's input `i` (0-based; with input features, one of the two inputs the
 * features are made from, the axes of the plane): the CSV's column, a built-in set's name in
 * the reader's language, else x₁, x₂, …
 */
export function inputLabel(data, i) {
  const key = `feature.${data?.name}.${i}`;
  if (has(key)) return t(key);
  const name = (data?.features?.length ? data?.input_names : data?.feature_names)?.[i];
  if (data?.name === "csv" && name) return name;
  if (name && !/^x\d*$/.test(name) && !/^px_\d+_\d+$/.test(name)) return name;
  return (data?.n_inputs ?? data?.n_features) === 1 ? "x" : `x${subscript(i + 1)}`;
}

/** The name of the target (regression) or of class `k`'s column, for axes and captions. */
export function targetLabel(data) {
  const key = `target.${data?.name}`;
  if (has(key)) return t(key);
  if (data?.task === "regression" && data?.class_names?.[0] && data.class_names[0] !== "y") return data.class_names[0];
  return "y";
}

/** `{mean, std}` of input `i` (or of the target for `i === "target"`) when it is not the identity. */
export function scaleOf(data, i) {
  const sc = data?.scaling;
  if (!sc) return null;
  const mean = i === "target" ? sc.target_mean?.[0] : sc.feature_mean?.[i];
  const std = i === "target" ? sc.target_std?.[0] : sc.feature_std?.[i];
  if (!Number.isFinite(mean) || !Number.isFinite(std) || std === 0 || (mean === 0 && std === 1)) return null;
  return { mean, std };
}

/** A value in network units back in the data's units (unchanged without a scale). */
export function toOriginal(v, scale) {
  return scale && Number.isFinite(v) ? v * scale.std + scale.mean : v;
}

/**
 * Plotly axis ticks in the data's units over `[lo, hi]` (network units): `{tickmode,
 * tickvals, ticktext}` at round values of the data, or `{}` without a scale.
 */
export function originalTicks(lo, hi, scale, count = 5) {
  if (!scale || !(hi > lo)) return {};
  const a = toOriginal(lo, scale);
  const b = toOriginal(hi, scale);
  const [min, max] = a < b ? [a, b] : [b, a];
  const raw = (max - min) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const vals = [];
  for (let v = Math.ceil(min / step) * step; v <= max + 1e-9 * step; v += step) vals.push(Number(v.toPrecision(12)));
  return { tickmode: "array", tickvals: vals.map((v) => (v - scale.mean) / scale.std), ticktext: vals.map((v) => fmt(v)) };
}

/** The output panel's caption key: a classifier's boundary, a regression's surface or curve, … */
export function captionKey(data) {
  const n = data?.n_inputs ?? data?.n_features; // the plane of the inputs, whatever their features
  const regression = data?.task === "regression";
  if (n === 2) return regression ? "output.surface" : "output.boundary";
  if (n === 1) return regression ? "output.curve" : "output.curve_class";
  return regression ? "output.prediction" : "output.probabilities";
}

/** The name of class `k` in the reader's language (a built-in set's), else the data's own. */
export function className(data, k) {
  const key = `class.${data?.name}.${k}`;
  if (has(key)) return t(key);
  return String(data?.class_names?.[k] ?? k);
}
