// The output plot's point labels and keyboard cursor (chart-keys.js), for OutputView: the
// cursor's points in their order, the 2-D points' labels with ŷ at each point (as the map's
// read-out gives it), kept up to the newest grid, and the label shown again after a redraw.
import { gridAt, pointTexts } from "./output-plots.js";

/** The cursor's points, [trace, point]: the training points, then the test points, each
 * from left to right (2-D); the curve's points (1-D); the bars of ŷ (one example's classes). */
export function keyPoints(view) {
  const data = view.gd.data ?? [];
  if (view.pointOrder?.data === data) return view.pointOrder.list;
  const list = [];
  const add = (c, order) => {
    const tr = data[c];
    const ks = Array.from(tr.x ?? [], (_, k) => k).filter((k) => tr.y?.[k] !== null && tr.y?.[k] !== undefined);
    if (order) ks.sort((a, b) => tr.x[a] - tr.x[b] || tr.y[a] - tr.y[b]);
    for (const k of ks) list.push([c, k]);
  };
  if (view.grid?.kind === "2d") {
    for (const part of ["train", "test"]) data.forEach((tr, c) => tr.meta === part && add(c, true));
  } else if (view.grid) {
    data.forEach((tr, c) => tr.mode === "lines" && add(c, false));
  } else if (data.length) {
    add(0, false);
  }
  view.pointOrder = { data, list };
  return list;
}

/** The 2-D points' labels for the current grid: ŷ at each point, as the map's read-out gives it. */
export function pointLabels(view) {
  const g = view.grid;
  view.textsFor = view.values;
  return pointTexts(view.topology.data, view.points, (x, y) => gridAt(g, view.values, x, y));
}

/**
 * Bring the points' labels up to this grid (a restyle: `gd.data` has them at once, the label
 * shown is drawn again once Plotly has redrawn); true when they changed.
 */
export function freshTexts(view) {
  if (view.grid?.kind !== "2d" || view.textsFor === view.values || !view.staticKey || !window.Plotly) return false;
  const data = view.gd.data ?? [];
  const idx = [];
  const texts = [];
  const labels = pointLabels(view);
  data.forEach((tr, c) => {
    if (labels[tr.meta]) {
      idx.push(c);
      texts.push(labels[tr.meta]);
    }
  });
  if (idx.length) Promise.resolve(window.Plotly.restyle(view.gd, { text: texts }, idx)).then(() => rehover(view));
  return true;
}

/** After a drawing: the cursor's point, or the point a mouse was on, labelled again. */
export function rehover(view) {
  if (view.keys.active) view.keys.redrawn();
  else if (view.hovered?.length && view.gd.data?.length) window.Plotly?.Fx?.hover(view.gd, view.hovered);
  else view.keys.redrawn();
}
