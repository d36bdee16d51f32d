// The network diagram (SVG): neurons coloured by their value, edges by weight (colour =
// sign, width = size), δ as a glow in a dashed ring, ∂L/∂W recolouring the edges during the
// backward pass. build() creates the elements once per topology, size and style; render()
// only sets attributes, and only those whose value changed (a frame while playing changes
// few of them by much). Presentation mode (body.present) builds the same diagram larger.
import { COLORS, SIZES } from "../shared/constants.js";
import { divergingFast as diverging, fmt, maxAbs } from "../shared/format.js";
import { t } from "../shared/i18n.js";
import { diagramStyle, drawsEdges, edgeLine, isPresentStyle, MAIN_DIAGRAM, neuronCenter } from "../shared/network-layout.js";
import { el, setAttr, setText } from "../shared/svg.js";
import { animationPrefs, PhaseAnimator, phasesBetween, phaseItem } from "./network-animation.js";
import { buildDiagram } from "./network-build.js";
import { DiagramFocus } from "./network-focus.js";
import { arrangeLabels, columnNames } from "./network-labels.js";
import { DiagramMaps } from "./neuron-maps.js";

export class NetworkView {
  /** `onSelect({type: "neuron"|"edge", layer, neuron | from, to})` when the user clicks. */
  constructor(container, { onSelect }) {
    this.container = container;
    this.canvas = container.querySelector(".net-canvas") ?? container;
    this.onSelect = onSelect;
    this.topology = null;
    this.frame = null;
    this.prev = null;
    this.hidden = new Set();
    this.active = null;
    this.selection = null;
    this.style = MAIN_DIAGRAM;
    this.svg = el("svg", { class: "network-svg", role: "group", tabindex: "-1" }, this.canvas); // its neurons are the Tab stops, not the picture
    const hint = document.querySelector("#net-keys-hint");
    if (hint) this.svg.setAttribute("aria-describedby", hint.id);
    this.animator = new PhaseAnimator(this);
    this.focus = new DiagramFocus(this);
    this.maps = new DiagramMaps(this.svg, container);
    this.size = { w: 0, h: 0 };
    new ResizeObserver(() => this.resize()).observe(this.canvas);
    this.svg.addEventListener("click", (event) => this.click(event));
    window.addEventListener("bpviz:layout", () => this.resize(true));
    this.bindTools();
  }

  /** The animation-speed menu and the "print δ" box under the diagram (index.html). */
  bindTools() {
    const speed = this.container.querySelector("#anim-speed");
    const delta = this.container.querySelector("#show-delta");
    if (speed) {
      speed.value = animationPrefs.speed;
      speed.addEventListener("change", () => animationPrefs.set({ speed: speed.value }));
    }
    if (delta) {
      delta.checked = animationPrefs.showDelta;
      delta.addEventListener("change", () => {
        animationPrefs.set({ showDelta: delta.checked });
        this.resize(true);
      });
    }
  }

  resize(force = false) {
    const w = Math.round(this.canvas.clientWidth);
    const h = Math.round(this.canvas.clientHeight);
    const style = diagramStyle(w, h, document.body.classList.contains("present"));
    if (w < 50 || h < 50 || (!force && w === this.size.w && h === this.size.h && style === this.style)) return;
    this.size = { w, h };
    this.style = style;
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
    this.maps.setTopology(topology);
    this.build();
  }

  /** A new `grid` message: the heat maps inside the neurons change (never per frame). */
  setGrid(grid) {
    this.maps.setGrid(grid);
  }

  // ------------------------------------------------------------------ build

  build() {
    const topo = this.topology;
    if (!topo || !this.size.w) return;
    const built = buildDiagram(this.svg, topo, this.size.w, this.size.h, this.style, { showDelta: animationPrefs.showDelta });
    const { geo, columns, edgeLayers, loss, fitValue, fitTarget } = built;
    Object.assign(this, { geo, columns, edgeLayers, loss, fitValue, fitTarget });
    const { edges: gEdges, trails: gTrails, pulses: gPulses, overlay: gOverlay } = built.groups;
    Object.assign(this, { gEdges, gTrails, gPulses, gOverlay, inputsBuilt: built.inputNames.join("\n") });
    this.maps.build(built);
    this.drawnSelection = null;
    this.svg.dataset.present = String(isPresentStyle(this.style));
    this.relabel();
    this.focus.rebuilt();
  }

  relabel() {
    if (!this.topology || !this.columns) return;
    const topo = this.topology;
    this.labels = arrangeLabels({ topology: topo, geo: this.geo, style: this.style, columns: this.columns, edgeLayers: this.edgeLayers });
    if (this.labels.inputs.join("\n") !== this.inputsBuilt) return this.build(); // the inputs' names in another language
    this.svg.dataset.titles = this.labels.titles;
    this.names = this.columns.map((_, c) => columnNames(topo, c).full);
    // Every neuron is named (the values join its name when a frame is rendered).
    this.columns.forEach((cv, c) => cv.neurons.forEach((n, j) => setAttr(n.g, "aria-label", `${this.names[c]}, ${j + 1}`)));
    for (const view of this.edgeLayers) {
      if (!view.hits) continue;
      const from = this.names[view.layer - 1];
      const to = this.names[view.layer];
      view.hits.forEach((row, j) =>
        row.forEach((hit, i) => hit.setAttribute("aria-label", t("net.edge_aria", { l: view.layer, from, i: i + 1, to, j: j + 1, w: "", g: "" }))),
      );
    }
    // The batch's loss before the update (the status line has the sets' after it).
    this.loss.title.textContent = t("net.loss_box_short");
    this.loss.tip.textContent = t("net.loss_box_batch");
    this.loss.name.textContent = t(`loss.${topo.config?.network?.loss ?? "mse"}`);
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
    const phases = frame.playing || !this.prev || !animationPrefs.factor() ? [] : phasesBetween(this.topology, this.prev, frame);
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

  /** δ glow is scaled by the largest |δ| anywhere, so a vanishing gradient looks faint. */
  deltaMax(frameOf = (l) => this.source(`d:${l}`)) {
    let m = 0;
    for (let l = 1; l <= this.topology.layers.length; l += 1) m = Math.max(m, maxAbs(frameOf(l).layers[l - 1]?.delta));
    return m;
  }

  render() {
    const frame = this.frame;
    if (!frame || !this.columns) return;
    const L = this.topology.layers.length;
    const deltaMax = this.deltaMax();
    // Every neuron's accessible name (with its values) when stepping; while playing, only
    // the focused item's, after the others (a screen reader reads the item in focus).
    this.labelsLive = !frame.playing;
    this.renderInput(frame);
    for (let l = 1; l <= L; l += 1) {
      const aLayer = this.source(`a:${l}`).layers[l - 1];
      const dLayer = this.source(`d:${l}`).layers[l - 1];
      this.renderColumn(this.columns[l], aLayer?.a, dLayer?.delta, deltaMax, l);
      this.renderEdges(l);
    }
    if (this.columns[L].labels.length) {
      const y = frame.y ?? [];
      this.columns[L].labels.forEach((label, k) => this.fitTarget(label, y[k], k));
    }
    const lossFrame = this.source("loss");
    setText(this.loss.value, fmt(lossFrame.loss, 4));
    this.loss.group.classList.toggle("pending", lossFrame.loss === null || lossFrame.loss === undefined);
    this.renderActive();
    this.renderSelection();
    if (this.svg.contains(document.activeElement)) this.refreshLabel(this.focus.itemOf(document.activeElement));
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
      const tip = `${this.labels.inputs[i]} = ${fmt(v)}`;
      setText(n.tip, tip);
      if (this.labelsLive) setAttr(n.g, "aria-label", `${this.names[0]}: ${tip}`);
    });
  }

  renderColumn(colView, a, delta, deltaMax, l) {
    const scale = Math.max(1, maxAbs(a));
    const name = l === this.topology.layers.length ? "ŷ" : "a";
    colView.neurons.forEach((n, j) => {
      const v = a?.[j];
      const fill = diverging(v / scale) ?? COLORS.pending;
      setAttr(n.body, "fill", fill);
      if (n.text) this.setValueText(n.text, v, v / scale);
      const d = delta?.[j];
      const strength = deltaMax > 0 && Number.isFinite(d) ? Math.abs(d) / deltaMax : 0;
      this.setGlow(n, colView.col, strength);
      if (n.delta) setText(n.delta, Number.isFinite(d) ? `δ ${fmt(d, 2)}` : "");
      setText(n.tip, `${name}${sub(j + 1)}⁽${sup(l)}⁾ = ${fmt(v)}   δ = ${fmt(d)}`);
      if (this.labelsLive) setAttr(n.g, "aria-label", t("net.neuron_aria", { layer: this.names[l], j: j + 1, name, v: fmt(v), d: fmt(d) }));
    });
  }

  /** The δ glow of a neuron at `strength` in [0, 1]: a soft disc in a dashed ring growing with it. */
  setGlow(n, col, strength) {
    if (!n.halo) {
      setAttr(n.body, "stroke", strength > 0.05 ? COLORS.deltaRing : "none");
      setAttr(n.body, "stroke-width", (0.5 + 2.5 * strength).toFixed(2));
      return;
    }
    const s = Math.sqrt(strength);
    const on = strength > 0;
    const reach = this.style.halo;
    setAttr(n.halo, "r", (col.r + 3 + (reach - 6) * s).toFixed(1));
    setAttr(n.halo, "stroke-width", on ? (1.5 + 4 * s).toFixed(1) : "0");
    setAttr(n.halo, "fill-opacity", on ? (0.12 + 0.5 * s).toFixed(2) : "0");
    setAttr(n.halo, "stroke-opacity", on ? (0.3 + 0.7 * s).toFixed(2) : "0");
  }

  setValueText(text, v, tNorm) {
    this.fitValue(text, Number.isFinite(v) ? fmt(v, 2) : "");
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
      if (view.labelFits) setText(view.label, grad ? `∂L/∂W ${shape}` : `W ${shape}`);
      return;
    }
    if (view.markStyle !== "none") setText(view.mode, grad ? (view.markStyle === "full" ? "∂L/∂W" : "∂W") : "W");
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

  /** An item's accessible name with its values now (the focused one: edges are many). */
  refreshLabel(item) {
    if (!item || !this.frame) return;
    if (item.type === "neuron") {
      const was = this.labelsLive;
      this.labelsLive = true;
      if (item.layer === 0) this.renderInput(this.frame);
      else {
        const l = item.layer;
        this.renderColumn(this.columns[l], this.source(`a:${l}`).layers[l - 1]?.a, this.source(`d:${l}`).layers[l - 1]?.delta, this.deltaMax(), l);
      }
      this.labelsLive = was;
      return;
    }
    const hit = this.edgeLayers[item.layer - 1]?.hits?.[item.to]?.[item.from];
    if (!hit) return;
    const layer = this.source(`d:${item.layer}`).layers[item.layer - 1];
    const w = fmt(layer?.W?.[item.to]?.[item.from]);
    const g = fmt(layer?.dW?.[item.to]?.[item.from]);
    const names = { l: item.layer, from: this.names[item.layer - 1], i: item.from + 1, to: this.names[item.layer], j: item.to + 1 };
    setAttr(hit, "aria-label", t("net.edge_aria", { ...names, w: `: w = ${w}`, g: `, ∂L/∂w = ${g}` }));
  }

  /** Highlight the column (or the loss box) of the phase just run. */
  renderActive() {
    if (!this.columns) return;
    const phase = this.active;
    const key = phase ? `${phase.kind}:${phase.layer ?? ""}` : "";
    if (this.svg.dataset.active !== key) this.svg.dataset.active = key;
    const L = this.topology.layers.length;
    this.columns.forEach((colView, c) => {
      const on = phase && (phase.kind === "forward" || phase.kind === "backward") && phase.layer === c;
      let cls = on ? `column-band active ${phase.kind}` : "column-band";
      if (c === L && phase?.kind === "loss") cls = "column-band active loss";
      setAttr(colView.band, "class", cls);
      setAttr(colView.title, "class", on ? "column-title active" : "column-title");
      colView.g.classList.toggle("active", Boolean(on));
    });
    this.loss.group.classList.toggle("active", phase?.kind === "loss" || (phase?.kind === "backward" && phase.layer === L));
    // The glow that marks fresh weights is for a step by hand; while playing every frame
    // follows an update, and a filter on every edge would cost each frame its paint.
    this.gEdges.classList.toggle("updated", phase?.kind === "update" && !this.frame?.playing);
  }

  // ------------------------------------------------------------------ selection

  click(event) {
    const item = this.focus.itemOf(event.target);
    if (item) this.onSelect(item);
  }

  setSelection(selection) {
    this.selection = selection;
    this.focus.selected(selection);
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
