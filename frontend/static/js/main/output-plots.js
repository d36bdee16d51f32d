// The Plotly traces of the output panel's data: the points of a 2-D data set (train circles,
// test diamonds, coloured by class or target) and, for 1-D data, the points with the fitted
// curve. Hover read-outs name the data's inputs and give its own units (units.js); the
// training points carry `meta: "train"`, so a click picks one (output-view.js).
import { COLORS } from "../shared/constants.js";
import { diverging } from "../shared/format.js";
import { t } from "../shared/i18n.js";
import { gridRange } from "./grid.js";
import { inputLabel, scaleOf, targetLabel, toOriginal } from "./units.js";

/** The points of 2-D data over the boundary heatmap, coloured around `mid` ± `span`. */
export function scatterTraces(data, pts, mid, span) {
  if (!pts) return [];
  const out = [];
  const s0 = scaleOf(data, 0);
  const s1 = scaleOf(data, 1);
  const sy = scaleOf(data, "target");
  const target = data.task === "regression" ? targetLabel(data) : "y";
  const hover = `${inputLabel(data, 0)}=%{customdata[0]:.4g}<br>${inputLabel(data, 1)}=%{customdata[1]:.4g}<br>${target}=%{customdata[2]:.4g}<extra>%{fullData.name}</extra>`;
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
      customdata: p.x.map((v, k) => [toOriginal(v[0], s0), toOriginal(v[1], s1), toOriginal(p.y[k], sy)]),
      marker: {
        size: 7,
        symbol,
        color: p.y.map((v) => diverging((v - mid) / span)),
        line: { color: line, width: 1 },
      },
      hovertemplate: hover,
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
  const hover = (y) => `${xName}=%{customdata[0]:.4g}<br>${y}=%{customdata[1]:.4g}<extra></extra>`;
  const custom = (x, y) => x.map((v, k) => [toOriginal(v, sx), toOriginal(y[k], sy)]);
  if (pts) {
    const sets = [["train", COLORS.train, t("output.legend_train"), "circle"], ["test", COLORS.test, t("output.legend_test"), "diamond"]];
    for (const [part, colour, name, symbol] of sets) {
      const p = pts[part];
      if (!p) continue;
      const px = p.x.map((v) => v[0]);
      traces.push({ type: "scatter", mode: "markers", name, meta: part, x: px, y: p.y, customdata: custom(px, p.y),
        marker: { color: colour, size: 6, opacity: 0.55, symbol }, hovertemplate: hover(yName) });
    }
  }
  const ys = Array.from(values, (v) => (Number.isFinite(v) ? v : null));
  traces.push({ type: "scatter", mode: "lines", name: "ŷ", x: xs, y: ys, customdata: custom(xs, ys),
    line: { color: COLORS.ink, width: 3 }, hovertemplate: hover("ŷ") });
  const yRange = gridRange(Float64Array.from([...ys, ...(pts?.train?.y ?? [])].filter((v) => v !== null)));
  return { traces, yRange };
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
