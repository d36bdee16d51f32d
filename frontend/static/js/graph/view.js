// The op graph as SVG. Built once per graph (setGraph), then render(progress) only sets
// attributes: a node's fill is its value in the diverging palette once the forward pass
// has reached it; its glow is ∂L/∂node (blue −, orange +, stronger for a larger |∂L/∂node|,
// scaled by the largest anywhere) once the backward pass has; an edge carries the
// gradient flowing back along it and the local derivative ∂consumer/∂input as its label.
// The graph flows left to right while that fits the canvas at MIN_SCALE; on a narrower one
// (a phone) it flows down, as wide as the canvas, and the canvas grows to its height.
import { COLORS } from "../shared/constants.js";
import { diverging, fmt } from "../shared/format.js";
import { el, setAttr, setText } from "../shared/svg.js";
import { layoutGraph } from "./layout.js";
import { opSymbol } from "./words.js";

const MIN_SCALE = 0.62; // below this the canvas scrolls instead of shrinking further
const MAX_SCALE = 1.35;
const MAX_DOWN_SCALE = 1; // flowing down, the drawing is as wide as the canvas, up to its own size
const CONST_FILL = "#f1f3f5"; // constants are not variables: no value colour

export class GraphView {
  constructor(container, { onSelect }) {
    this.container = container;
    this.onSelect = onSelect;
    this.svg = null;
    this.report = null;
    this.selected = null;
    this.progress = null; // the last one rendered, for a rebuild
    new ResizeObserver(() => this.fit()).observe(container);
  }

  clear() {
    this.svg?.remove();
    this.svg = null;
    this.report = null;
  }

  /** Build the elements for `report.graph`; `names[i]` is node i's display name. */
  setGraph(report, ops, names, labels) {
    this.clear();
    this.args = [report, ops, names, labels];
    const graph = report.graph;
    this.report = report;
    this.names = names;
    const inside = graph.nodes.map((n) => {
      if (n.op === "leaf" || n.op === "const") return n.name ?? n.label;
      if (n.op === "upstream") return n.name ?? "L";
      return opSymbol(ops, n.op);
    });
    this.inside = inside;
    const geo = this.layoutToFit();
    this.geo = geo;
    this.container.dataset.flow = geo.flow;
    const svg = el("svg", { class: "graph-svg", viewBox: `0 0 ${geo.width} ${geo.height}`, role: "img" });
    svg.setAttribute("aria-label", labels.aria);
    this.container.appendChild(svg);
    this.svg = svg;
    const gEdges = el("g", { class: "gedges" }, svg);
    const gLabels = el("g", { class: "elabels" }, svg);
    const gNodes = el("g", { class: "gnodes" }, svg);
    this.gPulses = el("g", { class: "gpulses" }, svg);

    this.edges = geo.edges.map((e) => {
      const path = el("path", { class: "gedge pending", d: e.d }, gEdges);
      const len = path.getTotalLength();
      const p = path.getPointAtLength(len * (geo.flow === "down" ? 0.5 : 0.62));
      const label = el("g", { class: "elabel", transform: `translate(${p.x.toFixed(1)},${p.y.toFixed(1)})` }, gLabels);
      const rect = el("rect", { x: -19, y: -9, width: 38, height: 18, rx: 9 }, label);
      const text = el("text", { "text-anchor": "middle", y: 4.5 }, label);
      const tip = el("title", {}, label);
      return { ...e, path, len, label, rect, text, tip };
    });

    this.nodes = geo.nodes.map((g) => {
      const node = graph.nodes[g.id];
      const group = el("g", { class: `gnode shape-${g.shape} op-${node.op}`, "data-node": g.id, tabindex: "-1" }, gNodes);
      const r = g.h / 2;
      const halo =
        g.shape === "circle"
          ? el("circle", { class: "halo", cx: g.x, cy: g.y, r }, group)
          : el("rect", { class: "halo", x: g.x - g.w / 2, y: g.y - r, width: g.w, height: g.h, rx: r }, group);
      const ring =
        g.shape === "circle"
          ? el("circle", { class: "ring", cx: g.x, cy: g.y, r: r + 5 }, group)
          : el("rect", { class: "ring", x: g.x - g.w / 2 - 5, y: g.y - r - 5, width: g.w + 10, height: g.h + 10, rx: r + 5 }, group);
      const body =
        g.shape === "circle"
          ? el("circle", { class: "body", cx: g.x, cy: g.y, r }, group)
          : el("rect", { class: "body", x: g.x - g.w / 2, y: g.y - r, width: g.w, height: g.h, rx: g.shape === "pill" ? r : 7 }, group);
      const sym = el("text", { class: "sym", x: g.x, y: g.y + (g.shape === "circle" ? 6.5 : 5), "text-anchor": "middle" }, group);
      setText(sym, inside[g.id]);
      const computed = !(node.op === "leaf" || node.op === "const");
      const name = computed ? el("text", { class: "gname", x: g.x, y: g.y - r - 8, "text-anchor": "middle" }, group) : null;
      if (name) setText(name, node.op === "upstream" ? labels.fromAbove : names[g.id]);
      const value = el("text", { class: "gvalue", x: g.x, y: g.y + r + 17, "text-anchor": "middle" }, group);
      const grad = el("text", { class: "ggrad", x: g.x, y: g.y + r + 34, "text-anchor": "middle" }, group);
      const tip = el("title", {}, group);
      group.addEventListener("click", () => this.onSelect(g.id));
      return { g, node, group, halo, ring, body, sym, name, value, grad, tip };
    });
    this.fit();
  }

  /** The layout across (left to right) while it fits the canvas at MIN_SCALE, else down if narrower. */
  layoutToFit() {
    const [report, ops] = this.args;
    const width = this.container.clientWidth - 8;
    const across = layoutGraph(report.graph, ops, this.inside, width);
    if (across.width * MIN_SCALE <= width) return across;
    const down = layoutGraph(report.graph, ops, this.inside, width, "down");
    return down.width < across.width ? down : across;
  }

  /**
   * Scale the drawing to the canvas: across, within limits (past them the canvas scrolls);
   * down, to its width. A canvas resized past what suits the flow is drawn again.
   */
  fit() {
    if (!this.svg || !this.geo) return;
    if (this.layoutToFit().flow !== this.geo.flow) {
      this.setGraph(...this.args);
      if (this.progress) this.render(this.progress);
      return;
    }
    const box = this.container.getBoundingClientRect();
    const width = (box.width - 4) / this.geo.width;
    const s = this.geo.flow === "down" ? Math.min(MAX_DOWN_SCALE, width) : Math.max(MIN_SCALE, Math.min(MAX_SCALE, width, (box.height - 4) / this.geo.height));
    this.svg.setAttribute("width", Math.floor(this.geo.width * s));
    this.svg.setAttribute("height", Math.floor(this.geo.height * s));
  }

  /** Show the graph as the steps so far left it (see stepper.progress). */
  render(progress) {
    this.progress = progress;
    if (!this.svg) return;
    const { valueKnown, gradKnown, active, phase, blamed } = progress;
    const nodes = this.report.graph.nodes;
    let vMax = 1;
    let gMax = 0;
    for (const n of nodes) {
      if (valueKnown(n.id) && Number.isFinite(n.value)) vMax = Math.max(vMax, Math.abs(n.value));
      if (gradKnown(n.id) && Number.isFinite(n.grad)) gMax = Math.max(gMax, Math.abs(n.grad));
    }
    for (const v of this.nodes) {
      const n = v.node;
      const known = valueKnown(n.id) && n.value !== null;
      const tNorm = known && n.op !== "const" ? n.value / vMax : 0;
      setAttr(v.body, "fill", n.op === "const" ? CONST_FILL : known ? diverging(tNorm) : COLORS.pending);
      setAttr(v.sym, "fill", known && Math.abs(tNorm) > 0.55 ? "#ffffff" : COLORS.ink);
      v.group.classList.toggle("pending", !valueKnown(n.id));
      const plain = n.op === "const" && !n.name; // a number of the text shows itself
      setText(v.value, valueKnown(n.id) && !plain ? (n.value === null ? "?" : fmt(n.value)) : "");
      const g = gradKnown(n.id) ? n.grad : null;
      setText(v.grad, g === null ? "" : `∇ ${fmt(g)}`);
      const s = g !== null && gMax > 0 ? Math.abs(g) / gMax : 0;
      const alpha = g === null ? 0 : 0.25 + 0.7 * Math.sqrt(s);
      const grow = 3 + 11 * Math.sqrt(s);
      setAttr(v.halo, "fill", diverging(Math.sign(g ?? 0) * (0.6 + 0.4 * s)) ?? COLORS.pending);
      setAttr(v.halo, "stroke", diverging(Math.sign(g ?? 0) * (0.6 + 0.4 * s)) ?? COLORS.pending);
      setAttr(v.halo, "fill-opacity", (0.7 * alpha).toFixed(2));
      setAttr(v.halo, "stroke-opacity", (0.35 * alpha).toFixed(2));
      setAttr(v.halo, "stroke-width", (2 * grow).toFixed(1));
      const ringClass = n.id === active ? `ring on ${phase}` : n.id === this.selected ? "ring on selected" : "ring";
      setAttr(v.ring, "class", n.id === blamed ? "ring on blamed" : ringClass);
      const parts = [n.label, `= ${valueKnown(n.id) ? fmt(n.value) : "…"}`];
      if (g !== null) parts.push(`∂L/∂ = ${fmt(g)}`);
      setText(v.tip, parts.join("   "));
    }
    let pMax = 0;
    const flows = this.edges.map((e) => {
      const c = nodes[e.to];
      const local = c.local?.[e.slot];
      const flowing = gradKnown(e.from) && gradKnown(e.to) && local !== null && local !== undefined && c.grad !== null;
      const product = flowing ? c.grad * local : null;
      if (product !== null && Number.isFinite(product)) pMax = Math.max(pMax, Math.abs(product));
      return { flowing, product, local };
    });
    this.edges.forEach((e, k) => {
      const { flowing, product, local } = flows[k];
      const done = valueKnown(e.to);
      setAttr(e.path, "class", flowing ? "gedge grad" : done ? "gedge done" : "gedge pending");
      if (flowing) {
        const s = pMax > 0 ? Math.abs(product) / pMax : 0;
        setAttr(e.path, "stroke", diverging(Math.sign(product) * (0.45 + 0.55 * s)) ?? COLORS.edgeNeutral);
        setAttr(e.path, "stroke-width", (1.6 + 3.4 * s).toFixed(1));
      } else {
        setAttr(e.path, "stroke", done ? "#8a93a1" : COLORS.edgeNeutral);
        setAttr(e.path, "stroke-width", done ? "1.7" : "1.3");
      }
      e.label.classList.toggle("on", flowing);
      const text = flowing ? fmt(local, 3) : "";
      setText(e.text, text);
      const w = Math.max(30, text.length * 7.2 + 12);
      setAttr(e.rect, "x", (-w / 2).toFixed(1));
      setAttr(e.rect, "width", w.toFixed(1));
      setText(e.tip, flowing ? `∂${this.names[e.to]}/∂${this.names[e.from]} = ${fmt(local)}` : "");
    });
  }

  select(id) {
    this.selected = id;
  }

  /** Edges into node `id` (forward) or out of it (backward), for the pulses. */
  edgesOf(id, phase) {
    return this.edges.filter((e) => (phase === "forward" ? e.to === id : e.from === id));
  }

  nodeGeometry(id) {
    return this.geo?.nodes[id] ?? null;
  }

  /** Keep node `id` in view: the canvas scrolls across, the page down. */
  reveal(id) {
    const v = this.nodes?.[id];
    if (v && this.geo.flow === "down") v.group.scrollIntoView({ block: "nearest", behavior: "smooth" });
    if (!v || this.container.scrollWidth <= this.container.clientWidth + 2) return;
    const scale = Number(this.svg.getAttribute("width")) / this.geo.width;
    const x = v.g.x * scale;
    const left = this.container.scrollLeft;
    const width = this.container.clientWidth;
    if (x < left + 60 || x > left + width - 60) this.container.scrollTo({ left: x - width / 2, behavior: "smooth" });
  }
}

