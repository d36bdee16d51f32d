// Geometry of a network diagram: where each column, neuron and edge goes. Pure functions of
// the topology, the drawing size and a style (the main page's large diagram, its larger
// presentation-mode twin, the lab's small one); no DOM.
import { SIZES } from "./constants.js";

/**
 * The main page's diagram: room for titles above and the loss box on the right; one radius
 * for every circle column; a wide layer as a block of cells; the digits input as an image.
 * `rows`: the baselines of the three label rows above the neurons (column title, its caption,
 * the W / ∂L/∂W marks between columns); `font`: every text size of the diagram (px; a
 * neuron's value at `font.value`, or smaller where it would cross its circle: value-fit.js;
 * the output's target labels, "y=0.864", at `font.target`); `halo`: how far the δ glow
 * reaches beyond a neuron's radius at full strength (px). `labelGap`: the least room between
 * two labels of one row (px); `font.subMin`: the smallest type a column's caption ("tanh · 4")
 * may shrink to before it is dropped (network-labels.js).
 */
export const MAIN_DIAGRAM = {
  margin: { top: 62, bottom: 14, left: 58 },
  rows: [18, 36, 54],
  minInner: { w: 100, h: 80 },
  maxSpacing: 84, // between two neurons' centres
  radius: { perSpacing: 0.36, perStep: 0.24, min: SIZES.neuronRadiusMin, max: SIZES.neuronRadiusMax },
  valueMinRadius: SIZES.valueTextMinRadius, // print the value inside a neuron at least this large
  font: { title: 14, sub: 12.5, subMin: 12.5, value: 11.5, side: 13.5, target: 13.5, mode: 13, bundle: 12.5, lossTitle: 13, lossValue: 17, lossName: 11.5, delta: 11.5 },
  labelGap: 6,
  halo: SIZES.haloReach,
  loss: { w: 104, h: 64 },
  sameRadius: true,
  wide: "compact",
  image: true,
};

/** Presentation mode: the same diagram with type readable from the back of a lecture hall. */
export const PRESENT_DIAGRAM = {
  ...MAIN_DIAGRAM,
  margin: { top: 90, bottom: 16, left: 76 },
  rows: [26, 54, 80],
  maxSpacing: 130,
  radius: { ...MAIN_DIAGRAM.radius, perStep: 0.3, min: 9, max: 46 },
  // A circle this large prints its value: "0.5" at the full 20 px, "−0.82" in ~12 px type
  // (value-fit.js shrinks only a label too wide for its circle). A regression's 2-4-2-1 on a
  // 1024×768 projector has circles of r 19, with the panel beside the diagram.
  valueMinRadius: 18,
  // A caption may shrink to 16 px ("tanh · 2 sigmoid · 1" read as one phrase at 1024×768);
  // two labels keep more than a word space between them, so that they read as two.
  font: { title: 22, sub: 19, subMin: 16, value: 20, side: 20, target: 20, mode: 19, bundle: 18, lossTitle: 20, lossValue: 26, lossName: 18, delta: 18 },
  labelGap: 12,
  halo: SIZES.haloReach + 4,
  loss: { w: 132, h: 92 },
};

/**
 * The canvas presentation mode has on a 1920×1080 screen (a little more): on a larger one
 * the presentation diagram grows with it, neurons, type and margins together, as the page's
 * type does (page.css: `--pk`); up to this size it is PRESENT_DIAGRAM itself.
 */
export const PRESENT_CANVAS = { w: 1150, h: 890 };
const presentScaled = new Map(); // one style per scale, so that an unchanged size keeps its style

/** Whether `style` is the presentation diagram's (PRESENT_DIAGRAM or a larger copy of it). */
export function isPresentStyle(style) {
  return style === PRESENT_DIAGRAM || [...presentScaled.values()].includes(style);
}

function presentDiagram(w, h) {
  const k = Math.floor(Math.min(w / PRESENT_CANVAS.w, h / PRESENT_CANVAS.h) * 100) / 100;
  if (k <= 1) return PRESENT_DIAGRAM;
  if (!presentScaled.has(k)) presentScaled.set(k, scaled(PRESENT_DIAGRAM, k));
  return presentScaled.get(k);
}

/**
 * A large canvas (a 1440p monitor, a 4K screen at 150 %): the main diagram with everything
 * 1.4 times larger — neurons, type, margins — as if drawn on a canvas that much smaller and
 * zoomed; below `LARGE_CANVAS` the main diagram stays as it is.
 */
export const LARGE_DIAGRAM = scaled(MAIN_DIAGRAM, 1.4);
export const LARGE_CANVAS = { w: 1500, h: 880 };

/**
 * A narrow canvas (a phone held upright): the main diagram with a smaller loss box, smaller
 * type for the target labels ("y=−0.864") and a smaller left margin, so that the network
 * keeps most of the width (at 374 px the main diagram's right margin alone takes half of
 * it; a regression's 3-layer network keeps circles that print values at 390 px) and its
 * neurons room for their values:
 * circles a little larger for the gap between columns and smaller type for the values.
 */
export const NARROW_DIAGRAM = {
  ...MAIN_DIAGRAM,
  margin: { ...MAIN_DIAGRAM.margin, left: 40 },
  radius: { ...MAIN_DIAGRAM.radius, perStep: 0.28 },
  font: { ...MAIN_DIAGRAM.font, value: 10, target: 11, lossTitle: 12, lossValue: 15, lossName: 10.5 },
  halo: 12,
  loss: { w: 82, h: 58 },
};
export const NARROW_CANVAS = 520; // px wide, below which NARROW_DIAGRAM is drawn

/**
 * The diagram style for a canvas of `w`×`h` px, in presentation mode or not (presenting on a
 * canvas larger than `PRESENT_CANVAS`, a copy of PRESENT_DIAGRAM scaled to it).
 */
export function diagramStyle(w, h, present) {
  if (w < NARROW_CANVAS) return NARROW_DIAGRAM; // presenting too: a phone has no room for its type
  if (present) return presentDiagram(w, h);
  return w >= LARGE_CANVAS.w && h >= LARGE_CANVAS.h ? LARGE_DIAGRAM : MAIN_DIAGRAM;
}

function scaled(style, k) {
  const by = (v) => Math.round(v * k * 10) / 10;
  const each = (o) => Object.fromEntries(Object.entries(o).map(([key, v]) => [key, by(v)]));
  return {
    ...style,
    margin: each(style.margin),
    rows: style.rows.map(by),
    maxSpacing: by(style.maxSpacing),
    radius: { ...style.radius, min: by(style.radius.min), max: by(style.radius.max) },
    valueMinRadius: by(style.valueMinRadius),
    font: each(style.font),
    halo: by(style.halo),
    loss: each(style.loss),
    labelGap: by(style.labelGap),
  };
}

/** The lab's small diagrams: dots with a radius per column; a wide layer as a bar. */
export const LAB_DIAGRAM = {
  margin: { top: 18, bottom: 16, left: 16, right: 16 },
  minInner: { w: 0, h: 0 },
  maxSpacing: 22,
  radius: { perSpacing: 0.32, perStep: 0.12, min: 2, max: 5 },
  sameRadius: false,
  wide: "bar",
  barHalf: 3.5,
  image: false,
};

// The gaps right of the output column (px): its δ glow to the target labels, the labels to
// the loss box, the loss box to the canvas's edge.
const GAP = { label: 4, loss: 6, edge: 6 };

/**
 * The right margin a style needs beside the output column's centre: the column's right half
 * (`reach`: a circle's radius), the δ glow, the target labels (`label` px wide) and the loss
 * box, with the gaps between them (a style without a loss box gives its own `margin.right`).
 */
export function rightMargin(style, reach, label) {
  if (style.margin.right !== undefined) return style.margin.right;
  return reach + style.halo + GAP.label + label + GAP.loss + style.loss.w + GAP.edge;
}

/**
 * Columns: 0 is the input, 1..L the weight layers (hidden…, output). A column of at most
 * `SIZES.maxDrawnNeurons` neurons is drawn as circles; a wider one as a compact block of
 * cells or a bar (`style.wide`), and the digits input as an 8×8 image (`style.image`).
 * Every column has `kind`, `n`, `x`, `left`, `right`, `top`, `bottom`; circles add `ys`, `r`
 * and `spacing`. A style with a loss box keeps `outLabel` px for the output's target labels
 * (their width is the font's: the caller measures it): the loss box (`loss`: centre `x`, `y`,
 * size `w`, `h`), the x where the labels start (`outLabelX`) and the room they have before
 * the loss box (`outLabelRoom`, px) come with the columns.
 */
export function layoutNetwork(topology, width, height, style = MAIN_DIAGRAM, { outLabel = 0 } = {}) {
  if (!style.loss) return placeColumns(topology, width, height, style, rightMargin(style, 0, 0));
  // The margin holds the output column's right half, whose size depends on the margin: a
  // wider margin only makes circles smaller, so the half of a first try without it is enough.
  const first = placeColumns(topology, width, height, style, rightMargin(style, 0, outLabel)).columns.at(-1);
  const geo = placeColumns(topology, width, height, style, rightMargin(style, first.right - first.x, outLabel));
  const last = geo.columns.at(-1);
  const halo = last.kind === "circles" ? style.halo : 0;
  const outLabelX = last.right + halo + GAP.label;
  const { w, h } = style.loss;
  const x = Math.min(width - GAP.edge - w / 2, outLabelX + outLabel + GAP.loss + w / 2);
  return { ...geo, loss: { x, y: geo.midY, w, h }, outLabelX, outLabelRoom: x - w / 2 - GAP.loss - outLabelX };
}

function placeColumns(topology, width, height, style, right) {
  const margin = { ...style.margin, right };
  const nIn = topology.data.n_features;
  const sizes = [nIn, ...topology.layers.map((l) => l.units)];
  const nCols = sizes.length;
  const innerW = Math.max(style.minInner.w, width - margin.left - margin.right);
  const innerH = Math.max(style.minInner.h, height - margin.top - margin.bottom);
  const stepX = nCols > 1 ? innerW / (nCols - 1) : innerW;
  const midY = margin.top + innerH / 2;

  const columns = sizes.map((n, c) => {
    const x = margin.left + c * stepX;
    const shape = topology.data.input_shape;
    const isImage = style.image && c === 0 && Array.isArray(shape) && shape.length === 2 && shape[0] * shape[1] === n;
    if (isImage) return imageColumn(n, x, midY, innerH, stepX, shape);
    if (n > SIZES.maxDrawnNeurons) {
      if (style.wide === "bar") return barColumn(n, x, margin.top, margin.top + innerH, style.barHalf);
      return compactColumn(n, x, midY, innerH, stepX);
    }
    return circleColumn(n, x, midY, innerH, stepX, style);
  });
  // The main diagram gives every circle column one radius, so equal neurons look equal.
  const circles = columns.filter((col) => col.kind === "circles");
  const shared = Math.min(...circles.map((col) => col.rMax));
  for (const col of circles) {
    const { min, max } = style.radius;
    col.r = Math.max(min, Math.min(style.sameRadius ? shared : col.rMax, max));
    col.top = col.ys[0] - col.r;
    col.bottom = col.ys.at(-1) + col.r;
    col.left = col.x - col.r;
    col.right = col.x + col.r;
  }
  return { width, height, margin, columns, stepX, midY, loss: null, innerH, outLabelX: columns.at(-1).right + 8 };
}

function circleColumn(n, x, midY, innerH, stepX, style) {
  const spacing = Math.min(innerH / n, style.maxSpacing);
  const ys = Array.from({ length: n }, (_, i) => midY + (i - (n - 1) / 2) * spacing);
  const rMax = Math.min(spacing * style.radius.perSpacing, stepX * style.radius.perStep);
  return { kind: "circles", n, x, ys, rMax, spacing };
}

function barColumn(n, x, top, bottom, half) {
  return { kind: "bar", n, x, top, bottom, left: x - half, right: x + half };
}

function compactColumn(n, x, midY, innerH, stepX) {
  // A block of small cells, column-major, at most ~40% of the gap between columns wide.
  let cell = SIZES.compactCellMax;
  let rows;
  let cols;
  for (;;) {
    rows = Math.max(1, Math.floor(innerH / cell));
    cols = Math.ceil(n / rows);
    if (cols * cell <= stepX * 0.42 || cell <= 3) break;
    cell -= 1;
  }
  rows = Math.ceil(n / cols);
  return blockColumn("compact", n, x, midY, cell, rows, cols);
}

function imageColumn(n, x, midY, innerH, stepX, [rows, cols]) {
  const side = Math.max(rows, cols);
  const cell = Math.max(4, Math.min(SIZES.imageCellMax, Math.floor(Math.min(innerH * 0.6, stepX * 0.7) / side)));
  // Row-major: pixel i is at row ⌊i/cols⌋, column i mod cols.
  const col = blockColumn("image", n, x, midY, cell, rows, cols);
  col.cells = col.cells.map((_, i) => {
    const r = Math.floor(i / cols);
    const c = i % cols;
    return { x: col.left + c * cell, y: col.top + r * cell, s: cell };
  });
  return col;
}

function blockColumn(kind, n, x, midY, cell, rows, cols) {
  const w = cols * cell;
  const h = rows * cell;
  const left = x - w / 2;
  const top = midY - h / 2;
  const cells = Array.from({ length: n }, (_, i) => {
    const c = Math.floor(i / rows);
    const r = i % rows;
    return { x: left + c * cell, y: top + r * cell, s: cell };
  });
  return { kind, n, x, cells, cell, left, right: left + w, top, bottom: top + h };
}

/** Whether the weights between two columns are drawn one line per weight. */
export function drawsEdges(colA, colB) {
  return colA.kind === "circles" && colB.kind === "circles";
}

/** The line of the weight from neuron `i` of `colA` to neuron `j` of `colB` (circle rim to rim). */
export function edgeLine(colA, colB, i, j) {
  return { x1: colA.x + colA.r, y1: colA.ys[i], x2: colB.x - colB.r, y2: colB.ys[j] };
}

/**
 * The band standing for the weights between two columns not drawn edge by edge: the points
 * of a polygon from `colA`'s right side to `colB`'s left, `gap` px off each.
 */
export function bundlePoints(colA, colB, gap) {
  return [
    [colA.right + gap, colA.top],
    [colB.left - gap, colB.top],
    [colB.left - gap, colB.bottom],
    [colA.right + gap, colA.bottom],
  ]
    .map((p) => p.join(","))
    .join(" ");
}

/**
 * The free stretch of a bundle's middle line where its label may go: from `colA`'s right to
 * `colB`'s left, less the δ glow of a circle column on either side ({x1, x2, y}).
 */
export function bundleLabelSpan(colA, colB, halo) {
  const x1 = colA.right + (colA.kind === "circles" ? halo : 4);
  const x2 = colB.left - (colB.kind === "circles" ? halo : 4);
  const top = Math.max(colA.top, colB.top);
  const bottom = Math.min(colA.bottom, colB.bottom);
  const y = top < bottom ? (top + bottom) / 2 : (colA.top + colA.bottom) / 2;
  return { x1, x2, y };
}

/** The centre of neuron `i` of a column (for pulses and selection rings). */
export function neuronCenter(col, i) {
  if (col.kind === "circles") return { x: col.x, y: col.ys[i] };
  const c = col.cells[i];
  return { x: c.x + c.s / 2, y: c.y + c.s / 2 };
}
