// The diagram by keyboard: one tab stop (a roving tabindex) and the arrow keys between
// neurons; Shift+← / Shift+→ to the weights into / out of a neuron, ↑ ↓ along them; Enter
// opens the inspector on the item. The inspector follows the focus (focus selects).
import { drawsEdges } from "../shared/network-layout.js";

const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
const clamp = (v, lo, hi) => Math.max(lo, Math.min(hi, v));

export class DiagramFocus {
  /** `view`: the NetworkView (its svg, geo, selection and onSelect). */
  constructor(view) {
    this.view = view;
    this.item = null; // the item holding tabindex=0
    this.inside = false; // whether the focus was in the diagram (kept across a rebuild)
    const svg = view.svg;
    // A click selects without taking the focus: → and Shift+→ keep stepping the phases for
    // the mouse user (the tab stop moves to the item clicked, for the keyboard user).
    svg.addEventListener("mousedown", (event) => {
      if (!this.itemOf(event.target)) return;
      event.preventDefault();
      if (svg.contains(document.activeElement)) document.activeElement.blur();
    });
    svg.addEventListener("focusin", (event) => this.focused(event.target));
    svg.addEventListener("focusout", (event) => {
      if (!svg.contains(event.relatedTarget)) this.inside = false;
    });
    svg.addEventListener("keydown", (event) => this.key(event));
  }

  /** The item an element stands for (a neuron or a weight), or null. */
  itemOf(node) {
    const hit = node?.closest?.(".edge-hit, .neuron");
    if (!hit) return null;
    const layer = Number(hit.dataset.layer);
    if (hit.classList.contains("edge-hit")) return { type: "edge", layer, from: Number(hit.dataset.from), to: Number(hit.dataset.to) };
    return { type: "neuron", layer, neuron: Number(hit.dataset.neuron) };
  }

  element(item) {
    if (!item) return null;
    const svg = this.view.svg;
    if (item.type === "edge") return svg.querySelector(`.edge-hit[data-layer="${item.layer}"][data-from="${item.from}"][data-to="${item.to}"]`);
    return svg.querySelector(`.neuron[data-layer="${item.layer}"][data-neuron="${item.neuron}"]`);
  }

  /** After a build: one element takes the tab stop (the selection, else the first input). */
  rebuilt() {
    const keep = this.element(this.item) ? this.item : null;
    this.item = null;
    this.setStop(this.view.selection ?? keep ?? { type: "neuron", layer: 0, neuron: 0 });
    if (this.inside && (document.activeElement === document.body || !document.activeElement)) this.element(this.item)?.focus();
  }

  /** The selection changed (a click, or none): the tab stop goes with it. */
  selected(selection) {
    if (selection) this.setStop(selection);
  }

  setStop(item) {
    const next = this.element(item);
    if (!next) return;
    const prev = this.element(this.item);
    if (prev && prev !== next) prev.setAttribute("tabindex", "-1");
    next.setAttribute("tabindex", "0");
    this.item = { ...item };
    delete this.item.pivot;
    this.pivot = item.pivot ?? this.pivot;
  }

  focused(node) {
    const item = this.itemOf(node);
    if (!item) return;
    this.inside = true;
    this.setStop(item);
    this.view.refreshLabel?.(item);
    // The inspector follows the focus (a click selects, and unselects, by itself).
    if (!same(item, this.view.selection)) this.view.onSelect(item);
  }

  go(item) {
    const node = this.element(item);
    if (!node) return;
    this.pivot = item.pivot ?? this.pivot;
    node.focus();
  }

  key(event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const item = this.itemOf(event.target);
    const geo = this.view.geo;
    if (!item || !geo) return;
    const next = item.type === "neuron" ? this.fromNeuron(item, event, geo.columns) : this.fromEdge(item, event, geo.columns);
    if (next === undefined) return; // not a key of the diagram: Playback's keys still work
    event.preventDefault();
    event.stopPropagation();
    if (next === "inspect") {
      if (!same(item, this.view.selection)) this.view.onSelect(item);
      window.dispatchEvent(new CustomEvent("bpviz:inspect"));
    } else if (next === "escape") {
      if (this.view.selection) this.view.onSelect(this.view.selection); // clicking the selection again unselects
    } else if (next) {
      this.go(next);
    }
  }

  fromNeuron({ layer: c, neuron: i }, event, cols) {
    const col = cols[c];
    const L = cols.length - 1;
    const to = (cc) => clamp(Math.round(cols[cc].n > 1 && col.n > 1 ? (i * (cols[cc].n - 1)) / (col.n - 1) : 0), 0, cols[cc].n - 1);
    switch (event.key) {
      case "ArrowUp":
        return { type: "neuron", layer: c, neuron: clamp(i - 1, 0, col.n - 1) };
      case "ArrowDown":
        return { type: "neuron", layer: c, neuron: clamp(i + 1, 0, col.n - 1) };
      case "PageUp":
        return { type: "neuron", layer: c, neuron: clamp(i - 10, 0, col.n - 1) };
      case "PageDown":
        return { type: "neuron", layer: c, neuron: clamp(i + 10, 0, col.n - 1) };
      case "Home":
        return { type: "neuron", layer: c, neuron: 0 };
      case "End":
        return { type: "neuron", layer: c, neuron: col.n - 1 };
      case "ArrowLeft":
        if (event.shiftKey) return c > 0 && drawsEdges(cols[c - 1], col) ? { type: "edge", layer: c, from: 0, to: i, pivot: "to" } : null;
        return c > 0 ? { type: "neuron", layer: c - 1, neuron: to(c - 1) } : null;
      case "ArrowRight":
        if (event.shiftKey) return c < L && drawsEdges(col, cols[c + 1]) ? { type: "edge", layer: c + 1, from: i, to: 0, pivot: "from" } : null;
        return c < L ? { type: "neuron", layer: c + 1, neuron: to(c + 1) } : null;
      case "Enter":
        return "inspect";
      case "Escape":
        return "escape";
      default:
        return undefined;
    }
  }

  fromEdge({ layer, from, to }, event, cols) {
    const nA = cols[layer - 1].n;
    const nB = cols[layer].n;
    // ↑ ↓ walk the weights of the neuron we came from (the pivot stays put).
    const along = (d) =>
      this.pivot === "from"
        ? { type: "edge", layer, from, to: clamp(to + d, 0, nB - 1) }
        : { type: "edge", layer, from: clamp(from + d, 0, nA - 1), to };
    switch (event.key) {
      case "ArrowUp":
        return along(-1);
      case "ArrowDown":
        return along(1);
      case "ArrowLeft":
        return { type: "neuron", layer: layer - 1, neuron: from };
      case "ArrowRight":
        return { type: "neuron", layer, neuron: to };
      case "Enter":
        return "inspect";
      case "Escape":
        return "escape";
      default:
        return undefined;
    }
  }
}
