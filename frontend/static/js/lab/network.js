// A small network diagram for one side of the lab: neurons as dots (a bar for a wide
// layer), edges coloured and sized by |∂L/∂W| on a log scale both sides share, so the
// fading toward the input is visible at a glance. build() once per topology, update().
import { fmt } from "../shared/format.js";
import { t } from "../shared/i18n.js";
import { bundlePoints, drawsEdges, edgeLine, LAB_DIAGRAM, layoutNetwork } from "../shared/network-layout.js";
import { el } from "../shared/svg.js";
import { GRAD_COLOR, GRAD_DECADES, GRAD_FAINT, LAB_SIZES } from "./constants.js";

const hex = (c) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));
const STRONG = hex(GRAD_COLOR);

/** |g| → 0..1 on a log scale spanning GRAD_DECADES below `top`. */
function strength(g, top) {
  if (!(g > 0) || !(top > 0)) return 0;
  const s = (Math.log10(g) - (Math.log10(top) - GRAD_DECADES)) / GRAD_DECADES;
  return Math.max(0, Math.min(1, s));
}

function mix(s) {
  const c = GRAD_FAINT.map((f, k) => Math.round(f + s * (STRONG[k] - f)));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

export class LabNetwork {
  constructor(container) {
    this.container = container;
    this.svg = el("svg", { class: "lab-net-svg", role: "img" }, container);
    this.topology = null;
    this.frame = null;
    this.top = 1;
    this.size = { w: 0, h: 0 };
    new ResizeObserver(() => this.resize()).observe(container);
  }

  resize() {
    const w = Math.round(this.container.clientWidth);
    const h = Math.round(this.container.clientHeight);
    if (w < 50 || h < 40 || (w === this.size.w && h === this.size.h)) return;
    this.size = { w, h };
    this.build();
    this.render();
  }

  setTopology(topology) {
    this.topology = topology;
    this.frame = null;
    this.build();
  }

  /** A frame and the largest gradient shown on either side (the top of the shared scale). */
  update(frame, top) {
    this.frame = frame;
    this.top = top;
    this.render();
  }

  build() {
    const topo = this.topology;
    if (!topo || !this.size.w) return;
    const { w, h } = this.size;
    this.svg.replaceChildren();
    this.svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
    this.svg.setAttribute("width", w);
    this.svg.setAttribute("height", h);
    this.cols = layoutNetwork(topo, w, h, LAB_DIAGRAM).columns;
    const half = LAB_DIAGRAM.barHalf;
    const gEdges = el("g", { class: "lab-edges" }, this.svg);
    const gNodes = el("g", { class: "lab-nodes" }, this.svg);
    this.edges = topo.layers.map((layer, i) => {
      const a = this.cols[i];
      const b = this.cols[i + 1];
      const tip = el("title", {}, el("g", {}, gEdges));
      const g = tip.parentNode;
      g.setAttribute("data-layer", i + 1);
      if (drawsEdges(a, b)) {
        const lines = b.ys.map((_, j) => a.ys.map((_, k) => el("line", { ...edgeLine(a, b, k, j), class: "lab-edge" }, g)));
        return { g, tip, lines, bundle: null, layer };
      }
      const bundle = el("polygon", { class: "lab-bundle", points: bundlePoints(a, b, 1) }, g);
      return { g, tip, lines: null, bundle, layer };
    });
    this.cols.forEach((col, c) => {
      if (col.kind === "circles") {
        for (const y of col.ys) el("circle", { cx: col.x, cy: y, r: col.r, class: "lab-node" }, gNodes);
      } else {
        el("rect", { x: col.x - half, y: col.top, width: 2 * half, height: col.bottom - col.top, rx: 2, class: "lab-node" }, gNodes);
      }
      const label = c === 0 ? "x" : c === this.cols.length - 1 ? "ŷ" : String(c);
      el("text", { x: col.x, y: h - 3, "text-anchor": "middle", class: "lab-col-label" }, gNodes).textContent = label;
      if (col.kind === "bar") {
        el("text", { x: col.x, y: LAB_DIAGRAM.margin.top - 5, "text-anchor": "middle", class: "lab-col-n" }, gNodes).textContent = String(col.n);
      }
    });
    this.svg.setAttribute("aria-label", t("lab.net_aria"));
  }

  render() {
    if (!this.edges || !this.frame) return;
    const layers = this.frame.layers ?? [];
    this.edges.forEach((view, i) => {
      const layer = layers[i];
      const dW = layer?.dW;
      const norm = layer?.norms?.dW;
      view.tip.textContent = `${t("lab.layer", { l: i + 1 })}: ‖∂L/∂W‖ = ${fmt(norm)}`;
      if (view.lines && Array.isArray(dW)) {
        view.lines.forEach((row, j) =>
          row.forEach((line, k) => {
            const s = strength(Math.abs(dW[j]?.[k]), this.top);
            line.setAttribute("stroke", mix(s));
            line.setAttribute("stroke-width", (LAB_SIZES.edgeWidthMin + s * (LAB_SIZES.edgeWidthMax - LAB_SIZES.edgeWidthMin)).toFixed(2));
            line.setAttribute("stroke-opacity", (0.35 + 0.65 * s).toFixed(2));
          }),
        );
        return;
      }
      // No matrix (a large layer): the layer's root-mean-square gradient per weight.
      const n = view.layer.units * view.layer.n_in;
      const s = strength(Number.isFinite(norm) ? norm / Math.sqrt(n) : 0, this.top);
      if (view.lines) {
        for (const row of view.lines) {
          for (const line of row) {
            line.setAttribute("stroke", mix(s));
            line.setAttribute("stroke-width", (LAB_SIZES.edgeWidthMin + s * (LAB_SIZES.edgeWidthMax - LAB_SIZES.edgeWidthMin)).toFixed(2));
            line.setAttribute("stroke-opacity", (0.35 + 0.65 * s).toFixed(2));
          }
        }
      } else {
        view.bundle.setAttribute("fill", mix(s));
        view.bundle.setAttribute("fill-opacity", (0.25 + 0.75 * s).toFixed(2));
      }
    });
  }

  relabel() {
    this.svg.setAttribute("aria-label", t("lab.net_aria"));
    this.render();
  }
}

/** The top of the shared gradient scale: the largest |∂L/∂W| per weight on any side. */
export function gradientTop(sides) {
  let top = 0;
  for (const { frame, topology } of sides) {
    (frame?.layers ?? []).forEach((layer, i) => {
      if (Array.isArray(layer.dW)) {
        for (const row of layer.dW) for (const v of row ?? []) if (Number.isFinite(v)) top = Math.max(top, Math.abs(v));
      } else if (Number.isFinite(layer.norms?.dW) && topology?.layers[i]) {
        const { units, n_in: nIn } = topology.layers[i];
        top = Math.max(top, layer.norms.dW / Math.sqrt(units * nIn));
      }
    });
  }
  return top;
}
