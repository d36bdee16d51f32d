// The Plotly traces of the output panel's data: the points of a 2-D data set (train circles,
// test diamonds, coloured by class or target) and, for 1-D data, the points with the fitted
// curve. Hover read-outs name the data's inputs and give its own units (units.js); the
// training points carry `meta: "train"`, so a click picks one (output-view.js). Each label is
// the trace's `text` (its hovertemplate prints `%{text}`): the words the keyboard's cursor
// says (chart-keys.js), a 2-D point's with the network's ŷ there (`pointTexts`), a bar's with
// its class (`barTraces`: digits).
import { COLORS } from "../shared/constants.js";
import { diverging, fmt } from "../shared/format.js";
import { t } from "../shared/i18n.js";
import { gridRange } from "./grid.js";
import { className, inputLabel, scaleOf, targetLabel, toOriginal } from "./units.js";

const LABEL = "%{text}<extra>%{fullData.name}</extra>"; // a point's label: its text, its set

/** The network's output `v` (network units) as the read-outs print it: "ŷ=0.873", "price ŷ=270". */
export function yhatText(data, v) {
  if (!Number.isFinite(v)) return "ŷ=—";
  return data.task === "regression" ? `${targetLabel(data)} ŷ=${fmt(toOriginal(v, scaleOf(data, "target")))}` : `ŷ=${v.toFixed(3)}`;
}

/** The 2-D grid's value nearest to (x, y) (network units; a cell as the map draws it), or NaN outside. */
export function gridAt(grid, values, x, y) {
  const n = grid?.resolution;
  if (!values || !(n >= 2) || values.length !== n * n) return NaN;
  const [[x0, x1], [y0, y1]] = grid.domain;
  const c = Math.round(((x - x0) / (x1 - x0)) * (n - 1));
  const r = Math.round(((y - y0) / (y1 - y0)) * (n - 1));
  return c < 0 || r < 0 || c >= n || r >= n ? NaN : values[r * n + c];
}

/**
 * The labels of 2-D data's points, `{train: [...], test: [...]}`: the inputs and the target in
 * the data's units and the network's output there (`yhat(x₁, x₂)`, network units), one line each.
 */
export function pointTexts(data, pts, yhat) {
  const s0 = scaleOf(data, 0);
  const s1 = scaleOf(data, 1);
  const sy = scaleOf(data, "target");
  const target = data.task === "regression" ? targetLabel(data) : "y";
  const out = {};
  for (const part of ["train", "test"]) {
    const p = pts?.[part];
    out[part] = (p?.x ?? []).map((v, k) =>
      [`${inputLabel(data, 0)}=${fmt(toOriginal(v[0], s0))}`, `${inputLabel(data, 1)}=${fmt(toOriginal(v[1], s1))}`, `${target}=${fmt(toOriginal(p.y[k], sy))}`, yhatText(data, yhat(v[0], v[1]))].join("<br>"),
    );
  }
  return out;
}

/** The points of 2-D data over the boundary heatmap, coloured around `mid` ± `span`; `texts`: their labels. */
export function scatterTraces(data, pts, mid, span, texts) {
  if (!pts) return [];
  const out = [];
  for (const [part, symbol, line] of [["train", "circle", "#ffffff"], ["test", "diamond", COLORS.ink]]) {
    const p = pts[part];
    if (!p?.x?.length) continue;
    out.push({
      type: "scatter",
      mode: "markers",
      name: part === "train" ? t("output.legend_train") : t("output.legend_test"),
      meta: part,
      x: p.x.map((v) => v[0]),
      y: p.x.map((v) => v[1]),
      text: texts?.[part] ?? [],
      marker: {
        size: 7,
        symbol,
        color: p.y.map((v) => diverging((v - mid) / span)),
        line: { color: line, width: 1 },
      },
      hovertemplate: LABEL,
    });
  }
  return out;
}

/** 1-D data: its points and the curve ŷ(x) over `xs`; `{traces, yRange: {min, max}}`. */
export function curveTraces(data, pts, xs, values) {
  const traces = [];
  const sx = scaleOf(data, 0);
  const sy = scaleOf(data, "target");
  const xName = inputLabel(data, 0);
  const yName = targetLabel(data);
  const hover = "%{text}<extra></extra>";
  const text = (x, y, name) => x.map((v, k) => `${xName}=${fmt(toOriginal(v, sx))}<br>${name}=${fmt(toOriginal(y[k], sy))}`);
  if (pts) {
    const sets = [["train", COLORS.train, t("output.legend_train"), "circle"], ["test", COLORS.test, t("output.legend_test"), "diamond"]];
    for (const [part, colour, name, symbol] of sets) {
      const p = pts[part];
      if (!p) continue;
      const px = p.x.map((v) => v[0]);
      traces.push({ type: "scatter", mode: "markers", name, meta: part, x: px, y: p.y, text: text(px, p.y, yName),
        marker: { color: colour, size: 6, opacity: 0.55, symbol }, hovertemplate: hover });
    }
  }
  const ys = Array.from(values, (v) => (Number.isFinite(v) ? v : null));
  traces.push({ type: "scatter", mode: "lines", name: "ŷ", x: xs, y: ys, text: text(xs, ys, "ŷ"),
    line: { color: COLORS.ink, width: 3 }, hovertemplate: hover });
  const yRange = gridRange(Float64Array.from([...ys, ...(pts?.train?.y ?? [])].filter((v) => v !== null)));
  return { traces, yRange };
}

/**
 * One example's outputs as bars (data without a plane: digits), ŷ with the target y over it.
 * Each bar's label (both traces': the same bar) names its output — a class, and whether it is
 * the target or the network's pick: "class 7 (target, predicted)" — then ŷ and y.
 */
export function barTraces(data, yhat, y) {
  const classes = yhat.map((_, k) => String(k));
  const text = yhat.map((v, k) => [barName(data, yhat, y, k), data.task === "regression" ? `ŷ=${fmt(v)}` : yhatText(data, v), `y=${fmt(y[k])}`].join("<br>"));
  const bar = { type: "bar", x: classes, text, textposition: "none", hovertemplate: "%{text}<extra></extra>", hoverlabel: { align: "left" } };
  return [
    { ...bar, y: yhat, name: "ŷ", marker: { color: COLORS.forward } },
    { ...bar, y, name: "y", marker: { color: COLORS.test, opacity: 0.5 } },
  ];
}

/** Output k's name: "class 7" and, of classes, which is the target and which the highest ŷ. */
function barName(data, yhat, y, k) {
  if (data.task === "binary") return t("output.legend_class", { y: 1, name: className(data, 1) }); // ŷ = P(y = 1)
  if (data.task !== "multiclass") return String(data.class_names?.[k] ?? targetLabel(data));
  const name = t("outputkeys.class_name", { name: className(data, k) });
  const notes = [];
  if (y.length === yhat.length && argmax(y) === k && y[k] > 0) notes.push(t("outputkeys.class_target"));
  if (argmax(yhat) === k) notes.push(t("outputkeys.class_predicted"));
  return notes.length ? t("outputkeys.class_notes", { name, notes: notes.join(t("outputkeys.class_join")) }) : name;
}

function argmax(v) {
  let best = 0;
  for (let k = 1; k < v.length; k += 1) if (v[k] > v[best]) best = k;
  return best;
}

/**
 * The example of the batch (`batch`: training indices) plotted nearest to (x, y) — within 3 %
 * of the axes' span in `area` — or -1. Points overlap: the one Plotly reports under the
 * pointer may be a test point on top of the training point meant.
 */
export function nearestInBatch(data, pts, batch, area, x, y) {
  const train = pts?.train;
  if (!train || !area || !batch) return -1;
  const sx = Math.abs(area.x[1] - area.x[0]) || 1;
  const sy = Math.abs(area.y[1] - area.y[0]) || 1;
  const two = data.n_features === 2;
  let best = -1;
  let bestD = 0.03;
  batch.forEach((i, k) => {
    const p = train.x[i];
    if (!p) return;
    const d = Math.hypot((p[0] - x) / sx, ((two ? p[1] : train.y[i]) - y) / sy);
    if (d < bestD) [best, bestD] = [k, d];
  });
  return best;
}
