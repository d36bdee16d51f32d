// A small network diagram for one side of the lab: neurons as dots (a bar for a wide
// layer), edges coloured and sized by |∂L/∂W| on a log scale both sides share, so the
// fading toward the input is visible at a glance. build() once per topology, update().
import { GRAD_COLOR, GRAD_DECADES, GRAD_FAINT, LAB_SIZES } from "./lab-constants.js";
import { fmt } from "./format.js";
import { t } from "./i18n.js";

const SVG = "http://www.w3.org/2000/svg";
const MARGIN = { top: 18, bottom: 16, left: 16, right: 16 };

function el(name, attrs = {}, parent = null) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

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
    const sizes = [topo.data.n_features, ...topo.layers.map((l) => l.units)];
    const innerW = w - MARGIN.left - MARGIN.right;
    const innerH = h - MARGIN.top - MARGIN.bottom;
    const stepX = innerW / Math.max(1, sizes.length - 1);
    const midY = MARGIN.top + innerH / 2;
    this.cols = sizes.map((n, c) => {
      const x = MARGIN.left + c * stepX;
      if (n > LAB_SIZES.dotMax) return { kind: "bar", n, x, top: MARGIN.top, bottom: MARGIN.top + innerH, half: 3.5 };
      const spacing = Math.min(innerH / n, 22);
      const ys = Array.from({ length: n }, (_, i) => midY + (i - (n - 1) / 2) * spacing);
      const r = Math.max(2, Math.min(5, spacing * 0.32, stepX * 0.12));
      return { kind: "dots", n, x, ys, r, top: ys[0] - r, bottom: ys.at(-1) + r, half: r };
    });
    const gEdges = el("g", { class: "lab-edges" }, this.svg);
    const gNodes = el("g", { class: "lab-nodes" }, this.svg);
    this.edges = topo.layers.map((layer, i) => {
      const a = this.cols[i];
      const b = this.cols[i + 1];
      const tip = el("title", {}, el("g", {}, gEdges));
      const g = tip.parentNode;
      g.setAttribute("data-layer", i + 1);
      if (a.kind === "dots" && b.kind === "dots") {
        const lines = b.ys.map((yb) => a.ys.map((ya) => el("line", { x1: a.x + a.r, y1: ya, x2: b.x - b.r, y2: yb, class: "lab-edge" }, g)));
        return { g, tip, lines, bundle: null, layer };
      }
      const points = [
        [a.x + a.half + 1, a.top],
        [b.x - b.half - 1, b.top],
        [b.x - b.half - 1, b.bottom],
        [a.x + a.half + 1, a.bottom],
      ];
      const bundle = el("polygon", { class: "lab-bundle", points: points.map((p) => p.join(",")).join(" ") }, g);
      return { g, tip, lines: null, bundle, layer };
    });
    this.cols.forEach((col, c) => {
      if (col.kind === "dots") {
        for (const y of col.ys) el("circle", { cx: col.x, cy: y, r: col.r, class: "lab-node" }, gNodes);
      } else {
        el("rect", { x: col.x - col.half, y: col.top, width: 2 * col.half, height: col.bottom - col.top, rx: 2, class: "lab-node" }, gNodes);
      }
      const label = c === 0 ? "x" : c === sizes.length - 1 ? "ŷ" : String(c);
      el("text", { x: col.x, y: h - 3, "text-anchor": "middle", class: "lab-col-label" }, gNodes).textContent = label;
      if (col.kind === "bar") {
        el("text", { x: col.x, y: MARGIN.top - 5, "text-anchor": "middle", class: "lab-col-n" }, gNodes).textContent = String(col.n);
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
