// The elements of the main page's network diagram, created once per topology, size and
// style (network-view.js then only sets their attributes). The geometry is the shared layout's.
import { COLORS } from "../shared/constants.js";
import { bundleLabelSpan, bundlePoints, drawsEdges, edgeLine, layoutNetwork } from "../shared/network-layout.js";
import { el } from "../shared/svg.js";
import { featureLabel } from "./units.js";
import { targetLabels, valueWriter } from "./value-fit.js";

/**
 * Build the diagram of `topology` into `svg` (emptied first) at `w`×`h` px in `style`
 * (MAIN_DIAGRAM or PRESENT_DIAGRAM). `showDelta`: add a δ read-out under each neuron that has
 * room for one. Returns the layout (`geo`), the layer groups (`groups`), per column its band,
 * titles, neurons and side labels (`columns`), per weight layer its lines or bundle
 * (`edgeLayers`), the loss box (`loss`) and the inputs' names (`inputNames`: the left margin
 * widens for long ones, up to a fifth of the width), the writer of the neurons' printed
 * values (`fitValue(text, label)`) and that of the output's target labels (`fitTarget(text,
 * y, k)`: the right margin keeps room for them before the loss box; value-fit.js).
 */
export function buildDiagram(svg, topology, w, h, style, { showDelta = false } = {}) {
  svg.replaceChildren();
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  svg.setAttribute("width", w);
  svg.setAttribute("height", h);
  const inputNames = Array.from({ length: topology.data.n_features }, (_, i) => featureLabel(topology.data, i));
  const targets = targetLabels(svg, style, topology);
  const room = { outLabel: targets.width };
  let geo = layoutNetwork(topology, w, h, style, room);
  const first = geo.columns[0];
  if (first.kind === "circles") {
    const probe = el("text", { "font-size": style.font.side }, svg);
    const width = (name) => {
      probe.textContent = name;
      return probe.getComputedTextLength();
    };
    const widest = Math.max(...inputNames.map(width));
    probe.remove();
    const left = Math.min(widest + first.r + 8 + 4, Math.max(style.margin.left, w * 0.2));
    if (left > style.margin.left) geo = layoutNetwork(topology, w, h, { ...style, margin: { ...style.margin, left } }, room);
  }
  // The δ glow is a flat disc inside a dashed ring (fill- and stroke-opacity): a blur
  // filter, a gradient or an opacity per neuron would each make the halos re-rasterize
  // or re-layerize at great cost on every frame while playing.
  const groups = {
    bands: el("g", { class: "bands" }, svg),
    edges: el("g", { class: "edges" }, svg),
    trails: el("g", { class: "trails" }, svg), // the error's trails run under the neurons
    hits: el("g", { class: "edge-hits" }, svg),
    cols: el("g", { class: "columns" }, svg),
    labels: el("g", { class: "labels" }, svg),
    pulses: el("g", { class: "pulses" }, svg),
    overlay: el("g", { class: "overlay" }, svg),
  };
  const L = topology.layers.length;
  const columns = geo.columns.map((col, c) => buildColumn(groups, col, c, L, h, geo, style, showDelta));
  const edgeLayers = topology.layers.map((_, i) => buildEdges(groups, geo, i + 1, style));
  const loss = buildLoss(groups, geo, style);
  return { geo, groups, columns, edgeLayers, loss, inputNames, fitValue: valueWriter(svg, style), fitTarget: targets.writer(geo.outLabelRoom) };
}

function buildColumn(groups, col, c, L, height, geo, style, showDelta) {
  const { margin, rows, font } = style;
  const g = el("g", { class: `column kind-${col.kind}`, "data-layer": c }, groups.cols);
  const pad = col.kind === "circles" ? 10 : 8;
  const bandTop = Math.min(col.top - pad, margin.top - 8);
  const band = el(
    "rect",
    {
      class: "column-band",
      x: col.left - pad,
      y: bandTop,
      width: col.right - col.left + 2 * pad,
      height: Math.max(col.bottom + pad, height - margin.bottom) - bandTop,
      rx: 10,
    },
    groups.bands,
  );
  const title = el("text", { class: "column-title", x: col.x, y: rows[0], "text-anchor": "middle", "font-size": font.title }, groups.labels);
  const sub = el("text", { class: "column-sub", x: col.x, y: rows[1], "text-anchor": "middle", "font-size": font.sub }, groups.labels);
  const neurons = [];
  // A δ read-out under each neuron, when the column leaves room between two neurons.
  const deltaRoom = col.kind === "circles" && (col.n === 1 || col.spacing - 2 * col.r >= font.delta + 3);
  for (let i = 0; i < col.n; i += 1) {
    const ng = el("g", { class: "neuron", "data-layer": c, "data-neuron": i, role: "button", tabindex: "-1" }, g);
    let halo = null;
    let body;
    let text = null;
    let delta = null;
    if (col.kind === "circles") {
      const y = col.ys[i];
      if (c > 0) {
        halo = el(
          "circle",
          {
            class: "halo",
            cx: col.x,
            cy: y,
            r: col.r,
            fill: COLORS.deltaFill,
            stroke: COLORS.deltaRing,
            "stroke-width": 0,
            "stroke-dasharray": `${(font.value * 0.45).toFixed(1)} ${(font.value * 0.3).toFixed(1)}`,
            "fill-opacity": 0,
            "stroke-opacity": 0,
          },
          ng,
        );
      }
      body = el("circle", { class: "body", cx: col.x, cy: y, r: col.r }, ng);
      if (col.r >= style.valueMinRadius) {
        text = el("text", { class: "value", x: col.x, y: y + font.value * 0.35, "text-anchor": "middle", "font-size": font.value }, ng);
        text.bpCircle = { r: col.r, cy: y };
      }
      if (showDelta && c > 0 && deltaRoom) {
        delta = el("text", { class: "delta-value", x: col.x, y: y + col.r + font.delta * 0.95, "text-anchor": "middle", "font-size": font.delta }, groups.labels);
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
    neurons.push({ g: ng, halo, body, text, tip, delta });
  }
  // Input names (x₁, x₂) and output targets, beside circle columns (outputs: past the δ glow).
  const labels = [];
  const isInput = c === 0;
  const isOutput = c === L;
  if (col.kind === "circles" && (isInput || isOutput)) {
    const size = isInput ? font.side : font.target;
    for (let i = 0; i < col.n; i += 1) {
      const x = isInput ? col.x - col.r - 8 : geo.outLabelX;
      const y = col.ys[i] + size * 0.35;
      const attrs = { class: "side-label", x, y, "text-anchor": isInput ? "end" : "start", "font-size": size };
      const label = el("text", isInput ? { ...attrs, "data-input": i } : attrs, groups.labels);
      if (isOutput) label.bpRow = col.ys[i]; // fitTarget centres the label on its neuron
      labels.push(label);
    }
  }
  return { g, band, title, sub, neurons, labels, col };
}

function buildEdges(groups, geo, layer, style) {
  const colA = geo.columns[layer - 1];
  const colB = geo.columns[layer];
  if (!drawsEdges(colA, colB)) {
    const band = el("polygon", { class: "bundle", points: bundlePoints(colA, colB, 4) }, groups.edges);
    const span = bundleLabelSpan(colA, colB, style.halo);
    const label = el(
      "text",
      { class: "bundle-label", x: (span.x1 + span.x2) / 2, y: span.y + style.font.bundle * 0.35, "text-anchor": "middle", "font-size": style.font.bundle },
      groups.labels,
    );
    const tip = el("title", {}, band);
    return { bundle: band, label, tip, span, lines: null, layer };
  }
  const lines = [];
  const hits = [];
  for (let j = 0; j < colB.n; j += 1) {
    const row = [];
    const hitRow = [];
    for (let i = 0; i < colA.n; i += 1) {
      const coords = edgeLine(colA, colB, i, j);
      const line = el("line", { class: "edge", ...coords }, groups.edges);
      const hit = el(
        "line",
        { class: "edge-hit", ...coords, "data-layer": layer, "data-from": i, "data-to": j, role: "button", tabindex: "-1" },
        groups.hits,
      );
      row.push(line);
      hitRow.push(hit);
    }
    lines.push(row);
    hits.push(hitRow);
  }
  const mode = el(
    "text",
    { class: "edge-mode", x: (colA.x + colB.x) / 2, y: style.rows[2], "text-anchor": "middle", "font-size": style.font.mode },
    groups.labels,
  );
  return { bundle: null, lines, hits, layer, mode };
}

function buildLoss(groups, geo, style) {
  const { x, y, w, h } = geo.loss;
  const { font } = style;
  const g = el("g", { class: "loss-node" }, groups.cols);
  return {
    group: g,
    tip: el("title", {}, g), // the long name, on hover (the first child: the group's tooltip)
    rect: el("rect", { x: x - w / 2, y: y - h / 2, width: w, height: h, rx: 10 }, g),
    title: el("text", { class: "loss-title", x, y: y - h / 2 + font.lossTitle * 1.25, "text-anchor": "middle", "font-size": font.lossTitle }, g),
    value: el("text", { class: "loss-value", x, y: y + font.lossValue * 0.35, "text-anchor": "middle", "font-size": font.lossValue }, g),
    name: el("text", { class: "loss-name", x, y: y + h / 2 - font.lossName * 0.6, "text-anchor": "middle", "font-size": font.lossName }, g),
  };
}
