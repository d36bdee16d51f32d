// The inspector: the formula behind the selected neuron or weight, with the frame's
// numbers plugged in, rendered with KaTeX and refreshed on every frame. Each render lists
// its blocks (heading, formula, table…) by content; only a block that changed is rebuilt,
// so a frame that moves one number re-typesets one formula, not the whole panel.
// It only multiplies numbers for display; every result shown comes from the frame. The
// formulas are written in inspector-views.js and inspector-neuron.js (docs/math.md states
// the math).
// When the phase stepped to changes, the panel scrolls to that phase's section, so the δ
// and "w ← w + Δw" lines are in view at 1280×720.
import { t } from "../shared/i18n.js";
import { renderNeuron } from "./inspector-neuron.js";
import { element, inheritFit, markWide, refocus, valuesTable } from "./inspector-tex.js";
import { renderEdge, renderInput, renderOverview } from "./inspector-views.js";
import { ParamEdit } from "./param-edit.js";
import { layerUsed, usedValue } from "./step-params.js";

export class Inspector {
  /**
   * `container`: the panel's body; it scrolls inside its card (`scroller`, the parent).
   * `onEdit({layer, param, index, value})`: a weight or bias typed in (set_param);
   * `onFinishStep()`: finish the step in progress (offered when an edit comes mid-step);
   * `onInspect(layer, neuron)`: ask for a neuron's row of a large layer (`inspect`).
   */
  constructor(container, { onEdit = null, onFinishStep = () => {}, onInspect = () => {} } = {}) {
    this.container = container;
    this.onInspect = onInspect;
    this.asked = null; // the frame and neuron an `inspect` was last sent for
    this.editor = onEdit ? new ParamEdit({ onEdit, onFinishStep }) : null;
    if (this.editor) this.editor.refresh = () => this.render();
    this.scroller = container.parentElement;
    this.topology = null;
    this.frame = null;
    this.selection = null;
    this.training = null; // the page's training config: the hyper-parameters of a frame without any
    this.inspected = null; // the `inspect` answer for a neuron of a large layer
    this.expanded = new Set(); // folded parts opened: "z1.0" (all terms), "layer2" (vector form)
    this.scrolledFor = null;
    container.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-toggle]");
      if (!button) return;
      const key = button.dataset.toggle;
      if (this.expanded.has(key)) this.expanded.delete(key);
      else this.expanded.add(key);
      this.render();
    });
    // ← → scroll a wide formula that has the focus (not the page's "next phase").
    container.addEventListener("keydown", (event) => {
      if ((event.key === "ArrowLeft" || event.key === "ArrowRight") && !event.shiftKey && event.target.matches?.(".formula[tabindex]")) event.stopPropagation();
    });
    this.wideQueued = false;
    new ResizeObserver(() => this.markWide()).observe(container);
    document.fonts?.addEventListener("loadingdone", () => this.markWide()); // KaTeX's fonts widen formulas
  }

  setTopology(topology) {
    this.topology = topology;
    this.selection = null;
    this.inspected = null;
    this.expanded.clear();
    this.render();
  }

  setSelection(selection) {
    this.selection = selection;
    if (this.editor) this.editor.problem = null;
    this.inspected = null;
    this.asked = null;
    this.scrolledFor = null;
    this.ask();
    this.render();
  }

  /** The page's training config, for a frame that does not say which hyper-parameters its step used. */
  setTraining(training) {
    this.training = { ...training };
    this.render();
  }

  /** The hyper-parameters of the step shown: the frame's own (`hyper`), also for a past step. */
  hyper() {
    return this.frame?.hyper ?? this.training ?? {};
  }

  setInspected(message) {
    this.inspected = message;
    this.render();
  }

  update(frame) {
    this.frame = frame;
    this.ask();
    this.render();
  }

  /**
   * A neuron of a large layer is selected: ask for its row (`inspect`) for the frame shown,
   * once per frame. Not while playing: the answer would be of a later step than the frame.
   */
  ask() {
    const s = this.selection;
    const f = this.frame;
    if (s?.type !== "neuron" || !(s.layer > 0) || !f || f.playing || !f.layers[s.layer - 1]?.large) return;
    const key = `${s.layer}.${s.neuron}@${f.step}.${f.cursor?.index}.${f.example}`;
    if (this.asked === key || this.answers(this.inspected)) return;
    this.asked = key;
    this.onInspect(s.layer, s.neuron);
  }

  /** Whether an `inspect` answer is of the selected neuron and of the frame shown. */
  answers(ins) {
    const s = this.selection;
    const f = this.frame;
    return Boolean(ins && f && ins.layer === s?.layer && ins.neuron === s?.neuron && ins.step === f.step && ins.cursor === f.cursor?.index && ins.example === f.example);
  }

  render() {
    this.blocks = [];
    if (this.topology && this.frame) {
      const s = this.selection;
      if (!s) renderOverview(this);
      else if (s.type === "edge") renderEdge(this, s);
      else if (s.layer === 0) renderInput(this, s);
      else renderNeuron(this, s);
    }
    this.reconcile(this.blocks);
    this.follow();
  }

  /**
   * Make the panel show `blocks`, rebuilding only those whose key differs from before. A
   * rebuilt block that held the focus hands it to its successor (a formula, a fold button).
   */
  reconcile(blocks) {
    const root = this.container;
    let shown = this.shown ?? [];
    if (shown.some((b) => b.node.parentNode !== root)) {
      root.replaceChildren();
      shown = [];
    }
    for (let i = 0; i < blocks.length; i += 1) {
      if (shown[i]?.key === blocks[i].key) continue;
      const node = blocks[i].make();
      if (shown[i]) {
        const old = shown[i].node;
        const focused = old.contains(document.activeElement) ? document.activeElement : null;
        const left = focused ? old.scrollLeft : 0;
        inheritFit(old, node); // a formula whose numbers changed keeps its fitted type
        root.replaceChild(node, old);
        if (focused) refocus(focused, old, node, left);
      } else {
        root.appendChild(node);
      }
      shown[i] = { key: blocks[i].key, node };
    }
    for (let i = blocks.length; i < shown.length; i += 1) shown[i].node.remove();
    this.shown = shown.slice(0, blocks.length);
    this.markWide();
  }

  /**
   * A formula wider than the panel scrolls sideways in its own box; those (only) become tab
   * stops with a name, so that a keyboard can scroll them too (axe's
   * scrollable-region-focusable). Measured when the browser is idle, after the layout it
   * did anyway: no layout is forced while playing.
   */
  markWide() {
    if (this.wideQueued) return; // one measure for a burst of renders
    this.wideQueued = true;
    const idle = window.requestIdleCallback ?? ((fn) => setTimeout(fn, 100));
    idle(
      () => {
        this.wideQueued = false;
        markWide(this.container, t("inspector.formula_wide"));
      },
      { timeout: 300 },
    );
  }

  /**
   * Bring the section of the phase just run into view (forward, δ, update), once per
   * selection and phase: stepping by hand follows the pass; reading is not interrupted.
   */
  follow() {
    const frame = this.frame;
    if (!this.selection || !frame || frame.playing || !this.scroller) return;
    const kind = frame.last_phase?.kind ?? "forward";
    const want = { forward: "forward", loss: "backward", backward: "backward", update: this.selection.type === "edge" ? "update" : "backward" }[kind];
    const key = `${JSON.stringify(this.selection)}|${frame.step}|${kind}`;
    if (key === this.scrolledFor) return;
    this.scrolledFor = key;
    const section = this.container.querySelector(`.inspector-section.${want}`);
    if (!section) return;
    const box = this.scroller.getBoundingClientRect();
    const cover = stuckHeight(this.container.querySelector(".inspector-title"), this.scroller);
    const top = section.getBoundingClientRect().top - box.top + this.scroller.scrollTop - cover - 4;
    this.scroller.scrollTop = Math.max(0, top);
  }

  // --------------------------------------------------------------- building blocks

  heading(text) {
    this.blocks.push({ key: `h3|${text}`, make: () => element("h3", "inspector-title", text) });
  }

  note(text, cls = "inspector-note") {
    this.blocks.push({ key: `p|${cls}|${text}`, make: () => element("p", cls, text) });
  }

  /** Why a gradient or an update is missing: not computed yet, or not sent while playing. */
  gradientMissing() {
    this.note(t(this.frame?.playing ? "inspector.not_sent_playing" : "inspector.not_yet"));
  }

  /** A section title; set in its own case (CSS upper-casing would turn δ into Δ). */
  section(text, kind) {
    this.blocks.push({
      key: `h4|${kind}|${text}`,
      make: () => {
        const node = element("h4", `inspector-section ${kind}`, text);
        node.style.textTransform = "none";
        return node;
      },
    });
  }

  formula(latex) {
    this.blocks.push({
      key: `formula|${Boolean(window.katex)}|${latex}`,
      make: () => {
        const div = document.createElement("div");
        div.className = "formula";
        div.dataset.tex = latex;
        if (window.katex) {
          window.katex.render(latex, div, { throwOnError: false, displayMode: true, output: "html" });
        } else {
          div.textContent = latex;
        }
        return div;
      },
    });
  }

  /** A button that opens or folds part of the panel (`key` in `expanded`). */
  toggle(key, text) {
    this.blocks.push({
      key: `toggle|${key}|${text}`,
      make: () => {
        const p = element("p", "inspector-note", "");
        const b = element("button", "inspector-toggle", text);
        b.type = "button";
        b.dataset.toggle = key;
        b.setAttribute("aria-expanded", String(this.expanded.has(key)));
        p.appendChild(b);
        return p;
      },
    });
  }

  /** A link out of the page (the chain-rule graph of a neuron). */
  link(href, text) {
    this.blocks.push({
      key: `link|${href}|${text}`,
      make: () => {
        const p = element("p", "inspector-note", "");
        const a = element("a", "inspector-link", text);
        a.href = href;
        p.appendChild(a);
        return p;
      },
    });
  }

  /** An editable weight or bias (param-edit.js): `{layer, param, index, value, label}`. */
  editable(spec) {
    if (this.editor) this.blocks.push(this.editor.block(spec));
  }

  /** A refused edit (`mid_step`, `bad_param`), shown at its input. True when it was one. */
  editError(msg) {
    return Boolean(this.editor?.error(msg));
  }

  /** The numbers of the selection, one row each, with the raw value kept for tests. */
  values(rows) {
    this.blocks.push({ key: `table|${rows.map((row) => row.map(String).join("\u0001")).join("\u0002")}`, make: () => valuesTable(rows) });
  }

  layerName(l) {
    const L = this.topology.layers.length;
    return l === L ? t("net.output") : t("net.hidden", { l });
  }

  /**
   * The weights W⁽ˡ⁾ as they were when this step's forward pass ran: as its update left them
   * (today's, or `W_updated` when edited by hand since) minus the update; null when the
   * frame does not say: while playing, a frame has today's weights without the update.
   */
  weightsUsed(layer) {
    if (this.frame?.playing && layer?.z && !layer?.dW_update) return null;
    return layerUsed(layer).W;
  }

  /**
   * For a neuron of a large layer (its matrices are not in the frame), the `inspect` answer's
   * weights as this step used them: `{row, column}` (its incoming weights and the next
   * layer's out of it), each today's minus the step's update once that has run; null when
   * the answer is for another neuron.
   */
  inspectedUsed(l, j) {
    const ins = this.inspected;
    if (ins?.layer !== l || ins?.neuron !== j || !this.answers(ins)) return null;
    return {
      row: usedValue(ins.W, ins.W_updated, ins.dW_update),
      column: usedValue(ins.W_next, ins.W_next_updated, ins.W_next_update),
    };
  }
}

/**
 * How much of the scroller's top the sticky `title` covers once stuck: its height, less the
 * part of its top padding its (negative) `top` hides within the scroller's padding.
 */
function stuckHeight(title, scroller) {
  if (!title) return 0;
  const inset = parseFloat(getComputedStyle(title).top) + parseFloat(getComputedStyle(scroller).paddingTop);
  return title.getBoundingClientRect().height + Math.min(0, inset || 0);
}
