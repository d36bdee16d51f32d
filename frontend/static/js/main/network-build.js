// The elements of the main page's network diagram, created once per topology and size
// (network-view.js then only sets their attributes). The geometry is the shared layout's.
import { COLORS, SIZES } from "../shared/constants.js";
import { bundlePoints, drawsEdges, edgeLine, layoutNetwork, MAIN_DIAGRAM } from "../shared/network-layout.js";
import { el } from "../shared/svg.js";

/**
 * Build the diagram of `topology` into `svg` (emptied first) at `w`×`h` px. Returns the layout
 * (`geo`), the layer groups (`groups`), per column its band, titles, neurons and side labels
 * (`columns`), per weight layer its lines or bundle (`edgeLayers`) and the loss box (`loss`).
 */
export function buildDiagram(svg, topology, w, h) {
  svg.replaceChildren();
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  svg.setAttribute("width", w);
  svg.setAttribute("height", h);
  const geo = layoutNetwork(topology, w, h, MAIN_DIAGRAM);
  // The δ glow is a flat disc with a fainter wide rim (fill- and stroke-opacity): a blur
  // filter, a gradient or an opacity per neuron would each make the halos re-rasterize
  // or re-layerize at great cost on every frame while playing.
  const groups = {
    bands: el("g", { class: "bands" }, svg),
    edges: el("g", { class: "edges" }, svg),
    hits: el("g", { class: "edge-hits" }, svg),
    cols: el("g", { class: "columns" }, svg),
    pulses: el("g", { class: "pulses" }, svg),
    overlay: el("g", { class: "overlay" }, svg),
  };
  const L = topology.layers.length;
  const columns = geo.columns.map((col, c) => buildColumn(groups, col, c, L, h));
  const edgeLayers = topology.layers.map((_, i) => buildEdges(groups, geo.columns[i], geo.columns[i + 1], i + 1));
  const loss = buildLoss(groups, geo);
  return { geo, groups, columns, edgeLayers, loss };
}

function buildColumn(groups, col, c, L, height) {
  const { margin } = MAIN_DIAGRAM;
  const g = el("g", { class: `column kind-${col.kind}`, "data-layer": c }, groups.cols);
  const pad = col.kind === "circles" ? 10 : 8;
  const band = el(
    "rect",
    {
      class: "column-band",
      x: col.left - pad,
      y: Math.min(col.top - pad, margin.top - 8),
      width: col.right - col.left + 2 * pad,
      height: Math.max(col.bottom + pad, height - margin.bottom) - Math.min(col.top - pad, margin.top - 8),
      rx: 10,
    },
    groups.bands,
  );
  const title = el("text", { class: "column-title", x: col.x, y: 20, "text-anchor": "middle" }, g);
  const sub = el("text", { class: "column-sub", x: col.x, y: 38, "text-anchor": "middle" }, g);
  const neurons = [];
  for (let i = 0; i < col.n; i += 1) {
    const ng = el("g", { class: "neuron", "data-layer": c, "data-neuron": i }, g);
    let halo = null;
    let body;
    let text = null;
    if (col.kind === "circles") {
      const y = col.ys[i];
      halo = el(
        "circle",
        { class: "halo", cx: col.x, cy: y, r: col.r, fill: COLORS.backward, stroke: COLORS.backward, "stroke-width": 7, "fill-opacity": 0, "stroke-opacity": 0 },
        ng,
      );
      body = el("circle", { class: "body", cx: col.x, cy: y, r: col.r }, ng);
      if (col.r >= SIZES.valueTextMinRadius) {
        text = el("text", { class: "value", x: col.x, y: y + 4, "text-anchor": "middle" }, ng);
      }
    } else {
      const cell = col.cells[i];
      const inset = col.kind === "image" ? 0 : Math.min(1, cell.s * 0.12);
      body = el(
        "rect",
        {
          class: "body cell",
          x: cell.x + inset,
          y: cell.y + inset,
          width: cell.s - 2 * inset,
          height: cell.s - 2 * inset,
          rx: col.kind === "image" ? 0 : 1.5,
        },
        ng,
      );
    }
    const tip = el("title", {}, ng);
    neurons.push({ g: ng, halo, body, text, tip });
  }
  // Input names (x₁, x₂) and output targets, beside circle columns.
  const labels = [];
  const isInput = c === 0;
  const isOutput = c === L;
  if (col.kind === "circles" && (isInput || isOutput)) {
    for (let i = 0; i < col.n; i += 1) {
      const x = isInput ? col.x - col.r - 8 : col.x + col.r + 8;
      labels.push(el("text", { class: "side-label", x, y: col.ys[i] + 4, "text-anchor": isInput ? "end" : "start" }, g));
    }
  }
  return { g, band, title, sub, neurons, labels, col };
}

function buildEdges(groups, colA, colB, layer) {
  if (!drawsEdges(colA, colB)) {
    const band = el("polygon", { class: "bundle", points: bundlePoints(colA, colB, 4) }, groups.edges);
    const label = el(
      "text",
      { class: "bundle-label", x: (colA.right + colB.left) / 2, y: (colA.top + colA.bottom) / 2 + 4, "text-anchor": "middle" },
      groups.edges,
    );
    return { bundle: band, label, lines: null, layer };
  }
  const lines = [];
  for (let j = 0; j < colB.n; j += 1) {
    const row = [];
    for (let i = 0; i < colA.n; i += 1) {
      const coords = edgeLine(colA, colB, i, j);
      const line = el("line", { class: "edge", ...coords }, groups.edges);
      el("line", { class: "edge-hit", ...coords, "data-layer": layer, "data-from": i, "data-to": j }, groups.hits);
      row.push(line);
    }
    lines.push(row);
  }
  const mode = el("text", { class: "edge-mode", x: (colA.x + colB.x) / 2, y: 52, "text-anchor": "middle" }, groups.cols);
  return { bundle: null, lines, layer, mode };
}

function buildLoss(groups, geo) {
  const { x, y, w, h } = geo.loss;
  const g = el("g", { class: "loss-node" }, groups.cols);
  return {
    group: g,
    rect: el("rect", { x: x - w / 2, y: y - h / 2, width: w, height: h, rx: 10 }, g),
    title: el("text", { class: "loss-title", x, y: y - 12, "text-anchor": "middle" }, g),
    value: el("text", { class: "loss-value", x, y: y + 10, "text-anchor": "middle" }, g),
    name: el("text", { class: "loss-name", x, y: y + 26, "text-anchor": "middle" }, g),
  };
}
