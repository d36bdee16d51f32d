// Geometry of the network diagram: where each column, neuron and edge goes.
// Pure functions of the topology and the drawing size; no DOM.
import { SIZES } from "./constants.js";

export const MARGIN = { top: 58, bottom: 18, left: 58, right: 190 };

/**
 * Columns: 0 is the input, 1..L the weight layers (hidden…, output).
 * Each column is drawn as circles, as a compact block of cells (> 16 neurons),
 * or as an 8×8 image (the digits input).
 */
export function layoutNetwork(topology, width, height) {
  const nIn = topology.data.n_features;
  const sizes = [nIn, ...topology.layers.map((l) => l.units)];
  const nCols = sizes.length;
  const innerW = Math.max(100, width - MARGIN.left - MARGIN.right);
  const innerH = Math.max(80, height - MARGIN.top - MARGIN.bottom);
  const stepX = nCols > 1 ? innerW / (nCols - 1) : innerW;
  const midY = MARGIN.top + innerH / 2;

  const columns = sizes.map((n, c) => {
    const x = MARGIN.left + c * stepX;
    const shape = topology.data.input_shape;
    const isImage = c === 0 && Array.isArray(shape) && shape.length === 2 && shape[0] * shape[1] === n;
    if (isImage) return imageColumn(n, x, midY, innerH, stepX, shape);
    if (n > SIZES.maxDrawnNeurons) return compactColumn(n, x, midY, innerH, stepX);
    return circleColumn(n, x, midY, innerH, stepX);
  });
  // One radius for all circle columns, so equal neurons look equal.
  const r = Math.min(...columns.filter((col) => col.kind === "circles").map((col) => col.rMax), SIZES.neuronRadiusMax);
  for (const col of columns) {
    if (col.kind !== "circles") continue;
    col.r = Math.max(SIZES.neuronRadiusMin, r);
    col.top = col.ys[0] - col.r;
    col.bottom = col.ys.at(-1) + col.r;
    col.left = col.x - col.r;
    col.right = col.x + col.r;
  }
  const last = columns.at(-1);
  const loss = {
    x: Math.min(width - 62, last.right + 122),
    y: midY,
    w: 104,
    h: 64,
  };
  return { width, height, columns, stepX, midY, loss, innerH };
}

function circleColumn(n, x, midY, innerH, stepX) {
  const spacing = Math.min(innerH / n, 84);
  const ys = Array.from({ length: n }, (_, i) => midY + (i - (n - 1) / 2) * spacing);
  const rMax = Math.min(spacing * 0.36, stepX * 0.24);
  return { kind: "circles", n, x, ys, rMax };
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

/** The centre of neuron `i` of a column (for pulses and selection rings). */
export function neuronCenter(col, i) {
  if (col.kind === "circles") return { x: col.x, y: col.ys[i] };
  const c = col.cells[i];
  return { x: c.x + c.s / 2, y: c.y + c.s / 2 };
}
