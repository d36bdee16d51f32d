// The network diagram (SVG): neurons coloured by their value, edges by weight (colour =
// sign, width = size), δ as a glow, ∂L/∂W recolouring the edges during the backward pass.
// build() creates the elements once per topology; render() only sets attributes, and only
// those whose value changed (a frame while playing changes few of them by much).
import { COLORS, SIZES } from "../shared/constants.js";
import { divergingFast as diverging, fmt, maxAbs } from "../shared/format.js";
import { t } from "../shared/i18n.js";
import { drawsEdges, edgeLine, neuronCenter } from "../shared/network-layout.js";
import { el, setAttr, setText } from "../shared/svg.js";
import { PhaseAnimator, phasesBetween, phaseItem } from "./network-animation.js";
import { buildDiagram } from "./network-build.js";

export class NetworkView {
  /** `onSelect({type: "neuron"|"edge", layer, neuron | from, to})` when the user clicks. */
  constructor(container, { onSelect }) {
    this.container = container;
    this.onSelect = onSelect;
    this.topology = null;
    this.frame = null;
    this.prev = null;
    this.hidden = new Set();
    this.active = null;
    this.selection = null;
    this.svg = el("svg", { class: "network-svg", role: "img" }, container);
    this.animator = new PhaseAnimator(this);
    this.size = { w: 0, h: 0 };
    new ResizeObserver(() => this.resize()).observe(container);
    this.svg.addEventListener("click", (event) => this.click(event));
  }

  resize() {
    const w = Math.round(this.container.clientWidth);
    const h = Math.round(this.container.clientHeight);
    if (w < 50 || h < 50 || (w === this.size.w && h === this.size.h)) return;
    this.size = { w, h };
    if (this.topology) {
      this.animator.finish();
      this.build();
      this.render();
    }
  }

  setTopology(topology) {
    this.animator.finish();
    this.topology = topology;
    this.frame = null;
    this.prev = null;
    this.hidden = new Set();
    this.selection = null;
    this.build();
  }

  // ------------------------------------------------------------------ build

  build() {
    const topo = this.topology;
    if (!topo || !this.size.w) return;
    const { geo, groups, columns, edgeLayers, loss } = buildDiagram(this.svg, topo, this.size.w, this.size.h);
    this.geo = geo;
    this.gEdges = groups.edges;
    this.gPulses = groups.pulses;
    this.gOverlay = groups.overlay;
    this.columns = columns;
    this.edgeLayers = edgeLayers;
    this.loss = loss;
    this.drawnSelection = null;
    this.relabel();
  }

  relabel() {
    if (!this.topology || !this.columns) return;
    const L = this.topology.layers.length;
    const narrow = this.geo.stepX < 96;
    this.columns.forEach((colView, c) => {
      const layer = this.topology.layers[c - 1];
      let title;
      if (c === 0) title = t("net.input");
      else if (c === L) title = t("net.output");
      else title = narrow ? t("net.hidden_short", { l: c }) : t("net.hidden", { l: c });
      colView.title.textContent = title;
      const sub = colView.sub;
      sub.textContent =
        c === 0 ? `${t("net.n_features", { n: colView.col.n })}` : `${t(`act.${layer.activation}`)} · ${layer.units}`;
      // Narrow columns (many layers): a smaller caption, squeezed to the column's width.
      sub.classList.toggle("narrow", narrow);
      sub.removeAttribute("textLength");
      sub.removeAttribute("lengthAdjust");
      const room = this.geo.stepX - 8;
      if (narrow && sub.getComputedTextLength() > room) {
        sub.setAttribute("textLength", String(Math.max(20, room)));
        sub.setAttribute("lengthAdjust", "spacingAndGlyphs");
      }
    });
    this.loss.title.textContent = t("net.loss_box");
    this.loss.name.textContent = t(`loss.${this.topology.config?.network?.loss ?? "mse"}`);
    this.svg.setAttribute("aria-label", t("net.aria"));
    if (this.frame) this.render();
  }

  // ------------------------------------------------------------------ update

  /** A new frame: animate the phases it completed (when stepping by hand), then show it. */
  update(frame) {
    if (!this.topology) return;
    this.animator.finish();
    this.prev = this.frame;
    this.frame = frame;
    const phases = frame.playing || !this.prev ? [] : phasesBetween(this.topology, this.prev, frame);
    if (!phases.length) {
      this.hidden = new Set();
      this.active = frame.last_phase;
      this.render();
      return;
    }
    this.hidden = new Set(phases.map(phaseItem));
    this.render();
    this.animator.play(phases, {
      onStart: (phase) => {
        this.active = phase;
        this.renderActive();
      },
      onEnd: (phase) => {
        this.hidden.delete(phaseItem(phase));
        this.render();
      },
      onDone: () => {
        this.active = frame.last_phase;
        this.renderActive();
      },
    });
  }

  /** The frame that supplies an item: the previous one while its phase is still animating. */
  source(item) {
    return this.hidden.has(item) && this.prev ? this.prev : this.frame;
  }

  render() {
    const frame = this.frame;
    if (!frame || !this.columns) return;
    const L = this.topology.layers.length;
    // δ glow is scaled by the largest |δ| anywhere, so a vanishing gradient looks faint.
    let deltaMax = 0;
    for (let l = 1; l <= L; l += 1) deltaMax = Math.max(deltaMax, maxAbs(this.source(`d:${l}`).layers[l - 1]?.delta));

    this.renderInput(frame);
    for (let l = 1; l <= L; l += 1) {
      const aLayer = this.source(`a:${l}`).layers[l - 1];
      const dLayer = this.source(`d:${l}`).layers[l - 1];
      this.renderColumn(this.columns[l], aLayer?.a, dLayer?.delta, deltaMax, l);
      this.renderEdges(l);
    }
    if (this.columns[L].labels.length) {
      const y = frame.y ?? [];
      this.columns[L].labels.forEach((label, k) => {
        const classes = this.topology.data.task === "multiclass" ? `${k} ` : "";
        setText(label, `${classes}y=${fmt(y[k], 3)}`);
      });
    }
    const lossFrame = this.source("loss");
    setText(this.loss.value, fmt(lossFrame.loss, 4));
    this.loss.group.classList.toggle("pending", lossFrame.loss === null || lossFrame.loss === undefined);
    this.renderActive();
    this.renderSelection();
  }

  renderInput(frame) {
    const colView = this.columns[0];
    const x = frame.x ?? [];
    const isImage = colView.col.kind === "image";
    // Images: grey levels over the example's own range; features: the diverging palette.
    const lo = Math.min(...x.filter(Number.isFinite), 0);
    const hi = Math.max(...x.filter(Number.isFinite), 1);
    const scale = Math.max(1, maxAbs(x));
    colView.neurons.forEach((n, i) => {
      const v = x[i];
      let fill;
      if (isImage) {
        const g = Number.isFinite(v) ? Math.round(255 - (230 * (v - lo)) / (hi - lo || 1)) : 230;
        fill = `rgb(${g},${g},${g})`;
      } else {
        fill = diverging(v / scale) ?? COLORS.pending;
      }
      setAttr(n.body, "fill", fill);
      if (n.text) this.setValueText(n.text, v, v / scale);
      setText(n.tip, `x${sub(i + 1)} = ${fmt(v)}`);
    });
    colView.labels.forEach((label, i) => {
      setText(label, `x${sub(i + 1)}`);
    });
  }

  renderColumn(colView, a, delta, deltaMax, l) {
    const scale = Math.max(1, maxAbs(a));
    colView.neurons.forEach((n, j) => {
      const v = a?.[j];
      const fill = diverging(v / scale) ?? COLORS.pending;
      setAttr(n.body, "fill", fill);
      if (n.text) this.setValueText(n.text, v, v / scale);
      const d = delta?.[j];
      const strength = deltaMax > 0 && Number.isFinite(d) ? Math.abs(d) / deltaMax : 0;
      if (n.halo) {
        const r = colView.col.r;
        // The rim reaches ~4 px beyond the radius a blurred circle had (r + 2 + 12·√s).
        const alpha = strength > 0 ? 0.2 + 0.7 * Math.sqrt(strength) : 0;
        setAttr(n.halo, "r", (r + 2.5 + 12 * Math.sqrt(strength)).toFixed(1));
        setAttr(n.halo, "fill-opacity", (0.75 * alpha).toFixed(2));
        setAttr(n.halo, "stroke-opacity", (0.35 * alpha).toFixed(2));
      } else {
        setAttr(n.body, "stroke", strength > 0.05 ? COLORS.backward : "none");
        setAttr(n.body, "stroke-width", (0.5 + 2.5 * strength).toFixed(2));
      }
      const name = l === this.topology.layers.length ? "ŷ" : "a";
      setText(n.tip, `${name}${sub(j + 1)}⁽${sup(l)}⁾ = ${fmt(v)}   δ = ${fmt(d)}`);
    });
  }

  setValueText(text, v, tNorm) {
    setText(text, Number.isFinite(v) ? fmt(v, 2) : "");
    setAttr(text, "fill", Math.abs(tNorm) > 0.55 ? "#ffffff" : COLORS.ink);
  }

  renderEdges(l) {
    const view = this.edgeLayers[l - 1];
    const src = this.hidden.has("w") ? this.prev ?? this.frame : this.source(`d:${l}`);
    const layer = src.layers[l - 1];
    // ∂L/∂W between the backward pass and the update, when stepping; weights otherwise (a
    // frame while playing may carry no dW at all: a value not computed is null).
    const grad =
      !src.playing && layer && layer.dW !== null && layer.dW !== undefined && (layer.dW_update === null || layer.dW_update === undefined);
    const matrix = grad ? layer.dW : layer?.W;
    if (view.bundle) {
      setAttr(view.bundle, "class", grad ? "bundle grad" : "bundle");
      const shape = `${this.topology.layers[l - 1].units}×${this.topology.layers[l - 1].n_in}`;
      setText(view.label, grad ? `∂L/∂W ${shape}` : `W ${shape}`);
      return;
    }
    setText(view.mode, grad ? "∂L/∂W" : "W");
    setAttr(view.mode, "class", grad ? "edge-mode grad" : "edge-mode");
    const m = maxAbs(matrix) || 1;
    const span = SIZES.edgeWidthMax - SIZES.edgeWidthMin;
    for (let j = 0; j < view.lines.length; j += 1) {
      const row = view.lines[j];
      const values = matrix?.[j];
      for (let i = 0; i < row.length; i += 1) {
        const line = row[i];
        const v = values?.[i];
        if (!Number.isFinite(v)) {
          setAttr(line, "stroke", COLORS.edgeNeutral);
          setAttr(line, "stroke-width", "1");
          setAttr(line, "stroke-opacity", "0.6");
          continue;
        }
        const s = Math.abs(v) / m;
        setAttr(line, "stroke", diverging(Math.sign(v) * (0.45 + 0.55 * s)));
        setAttr(line, "stroke-width", (SIZES.edgeWidthMin + span * s).toFixed(1));
        setAttr(line, "stroke-opacity", (0.35 + 0.65 * s).toFixed(2));
      }
    }
  }

  /** Highlight the column (or the loss box) of the phase just run. */
  renderActive() {
    if (!this.columns) return;
    const phase = this.active;
    const key = phase ? `${phase.kind}:${phase.layer ?? ""}` : "";
    if (this.svg.dataset.active !== key) this.svg.dataset.active = key;
    const L = this.topology.layers.length;
    this.columns.forEach((colView, c) => {
      const on =
        phase && ((phase.kind === "forward" || phase.kind === "backward") && phase.layer === c);
      let cls = on ? `column-band active ${phase.kind}` : "column-band";
      if (c === L && phase?.kind === "loss") cls = "column-band active loss";
      setAttr(colView.band, "class", cls);
      colView.g.classList.toggle("active", Boolean(on));
    });
    this.loss.group.classList.toggle("active", phase?.kind === "loss" || (phase?.kind === "backward" && phase.layer === L));
    // The glow that marks fresh weights is for a step by hand; while playing every frame
    // follows an update, and a filter on every edge would cost each frame its paint.
    this.gEdges.classList.toggle("updated", phase?.kind === "update" && !this.frame?.playing);
  }

  // ------------------------------------------------------------------ selection

  click(event) {
    const hit = event.target.closest?.(".edge-hit, .neuron");
    if (!hit) return;
    const layer = Number(hit.dataset.layer);
    if (hit.classList.contains("edge-hit")) {
      this.onSelect({ type: "edge", layer, from: Number(hit.dataset.from), to: Number(hit.dataset.to) });
    } else {
      this.onSelect({ type: "neuron", layer, neuron: Number(hit.dataset.neuron) });
    }
  }

  setSelection(selection) {
    this.selection = selection;
    this.renderSelection();
  }

  renderSelection() {
    if (!this.gOverlay) return;
    const s = this.selection;
    const key = s ? JSON.stringify(s) : "";
    if (key === this.drawnSelection) return;
    this.drawnSelection = key;
    this.gOverlay.replaceChildren();
    if (!s || !this.geo) return;
    if (s.type === "neuron") {
      const col = this.geo.columns[s.layer];
      if (!col || s.neuron >= col.n) return;
      const c = neuronCenter(col, s.neuron);
      if (col.kind === "circles") {
        el("circle", { class: "selection", cx: c.x, cy: c.y, r: col.r + 5 }, this.gOverlay);
      } else {
        const cell = col.cells[s.neuron];
        el("rect", { class: "selection", x: cell.x - 2, y: cell.y - 2, width: cell.s + 4, height: cell.s + 4 }, this.gOverlay);
      }
    } else if (s.type === "edge") {
      const a = this.geo.columns[s.layer - 1];
      const b = this.geo.columns[s.layer];
      if (!a || !b || !drawsEdges(a, b)) return;
      el("line", { class: "selection", ...edgeLine(a, b, s.from, s.to) }, this.gOverlay);
    }
  }
}

const SUB = "₀₁₂₃₄₅₆₇₈₉";
const SUP = "⁰¹²³⁴⁵⁶⁷⁸⁹";
function sub(n) {
  return String(n).replace(/\d/g, (d) => SUB[d]);
}
function sup(n) {
  return String(n).replace(/\d/g, (d) => SUP[d]);
}
