// The charts without a mouse. Each chart is a tab stop; focused, ← → move a cursor over its
// points (Shift or PageUp/PageDown: ten at a time; Home, End), ↑ ↓ too on a heatmap. Plotly's
// own hover label shows the points under the cursor (Plotly.Fx.hover with those points), and a
// polite live region says the same values in words: the strings the label prints (each
// trace's `text`, which its hovertemplate shows), so never a different rounding.
// The cursor keeps its step while the data grows (End follows the newest); Esc or leaving
// the chart removes it. A tap shows Plotly's label as a hover does (Plotly hovers where a
// tap lands), and under a finger (pointer: coarse) at the nearest point however far:
// `touchLayout`. A click or a tap does not take the focus: → keeps stepping the network.
// A scatter of points (`points`: the output plot's data) is read point by point instead,
// in the order given, each point's label (its `text`, lines joined) said after its set's name.
import { t } from "./i18n.js";

const PAGE = 10; // Shift+arrow, PageUp and PageDown move this many points
let live = null; // the one polite region the charts speak through
const hints = {}; // the keys, said after a chart's name: a series' and a heatmap's
const cursors = new Map(); // chart div → its ChartKeys

function regions() {
  if (live) return;
  const home = document.body; // not the charts' section: presentation mode hides it
  live = document.createElement("div");
  live.id = "chart-live";
  live.className = "visually-hidden";
  live.setAttribute("aria-live", "polite");
  home.append(live);
  for (const kind of ["series", "grid", "points"]) {
    const hint = document.createElement("p");
    hint.id = `chart-keys-hint-${kind}`;
    hint.className = "visually-hidden";
    home.append(hint);
    hints[kind] = hint;
  }
  // Esc with a cursor shown removes it and nothing else: the page's keys (keys.js: Esc
  // leaves presentation mode) run in the capture phase and skip a handled (prevented) key.
  window.addEventListener(
    "keydown",
    (event) => {
      const keys = cursors.get(event.target);
      if (event.key !== "Escape" || !keys?.active || event.defaultPrevented) return;
      event.preventDefault();
      keys.hide();
    },
    true,
  );
}

/**
 * Layout for a finger: Plotly hovers only within 20 px of a point, and a tap between two
 * points of a short history would show nothing; under a coarse pointer the nearest point.
 */
export function touchLayout() {
  return typeof matchMedia === "function" && matchMedia("(pointer: coarse)").matches ? { hoverdistance: -1 } : {};
}

function say(text) {
  regions();
  // The same words again (a key at the end) are said again: a polite region speaks on change.
  live.textContent = live.textContent === text ? `${text} ` : text;
}

/** The string Plotly's label prints for a point: the trace's `text`, else its value. */
function shown(trace, k) {
  const text = Array.isArray(trace.text) ? trace.text[k] : undefined;
  return text ?? String(trace.y?.[k] ?? trace.z?.[k] ?? "");
}

/** A label's lines (`<br>` in its text) as words: "x₁=0.5, x₂=1". */
function spoken(text) {
  return String(text).split("<br>").join(t("chartkeys.join"));
}

function present(v) {
  return v !== null && v !== undefined && !(typeof v === "number" && Number.isNaN(v));
}

export class ChartKeys {
  /**
   * `el`: the chart's div. `title()`: the chart's name. `where(x)`: the words for a position
   * on the x axis (a step: "step 12"). `newest`: the first key goes to the last point (a
   * history), else → to the first and ← to the last. `grid`: a heatmap (↑ ↓ between rows),
   * whose cell is said by `cell(row, col)` (the same strings as its hover label). `points()`:
   * a scatter read point by point, the [curveNumber, pointNumber] of each in the cursor's
   * order; `prepare()` runs before a point is shown (its label brought up to date). `graph`:
   * the Plotly div when it is not `el` itself (`el` a container: the tab stop). `name(trace)`:
   * the words for a trace before its value (its legend's `name` unless the label says another).
   */
  constructor(el, { title, where = (x) => String(x), newest = false, grid = false, cell = null, points = null, prepare = null, graph = el, name = (trace) => trace.name }) {
    Object.assign(this, { el, title, where, newest, grid, cell, points, prepare, gd: graph, nameOf: name });
    this.active = false;
    this.x = null; // the x value the cursor is on (a series): kept while the data grows
    this.end = false; // on the newest point, and following it
    this.row = 0;
    this.col = 0;
    this.at = 0; // the point the cursor is on (a scatter): its place in `points()`
    regions();
    cursors.set(el, this);
    el.tabIndex = this.data.length ? 0 : -1; // a tab stop once drawn
    el.setAttribute("role", "application");
    el.setAttribute("aria-describedby", hints[grid ? "grid" : points ? "points" : "series"].id);
    el.classList.add("chart-keys");
    el.addEventListener("keydown", (event) => this.key(event));
    el.addEventListener("focusout", (event) => {
      if (!el.contains(event.relatedTarget)) this.hide();
    });
    // A click (or a tap) hovers as Plotly does, without taking the focus from where it was.
    el.addEventListener("mousedown", (event) => {
      if (!el.contains(document.activeElement)) event.preventDefault();
    });
    this.relabel();
  }

  relabel() {
    this.el.setAttribute("aria-label", t("chartkeys.label", { title: this.title() }));
    hints.series.textContent = t("chartkeys.hint");
    hints.grid.textContent = t("chartkeys.hint_grid");
    hints.points.textContent = t("chartkeys.hint_points");
  }

  /** The traces Plotly drew (none before the first drawing). */
  get data() {
    return Array.isArray(this.gd.data) ? this.gd.data : [];
  }

  /** The traces that show a value at index k (a trace hidden from its legend does not). */
  tracesAt(k) {
    const out = [];
    this.data.forEach((tr, c) => {
      if (tr.visible === false || tr.visible === "legendonly") return;
      if (present(tr.y?.[k])) out.push(c);
    });
    return out;
  }

  /** The indices of the series' x values the cursor stops at (where a value is drawn). */
  stops() {
    const n = this.data[0]?.x?.length ?? 0;
    const out = [];
    for (let k = 0; k < n; k += 1) if (this.tracesAt(k).length) out.push(k);
    return out;
  }

  key(event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.target !== this.el) return;
    const step = event.shiftKey ? PAGE : 1;
    const moves = {
      ArrowLeft: ["x", -step], ArrowRight: ["x", step], PageUp: ["x", -PAGE], PageDown: ["x", PAGE],
      Home: ["x", -Infinity], End: ["x", Infinity],
    };
    if (this.grid) Object.assign(moves, { ArrowUp: ["y", -step], ArrowDown: ["y", step] });
    const move = moves[event.key];
    if (!move) return;
    // The chart's arrows are its own: Playback's → (next phase) does not also act.
    event.preventDefault();
    event.stopPropagation();
    if (this.grid) this.moveCell(...move);
    else if (this.points) this.movePoint(move[1]);
    else this.moveSeries(move[1]);
  }

  moveSeries(delta) {
    const stops = this.stops();
    if (!stops.length) {
      this.active = true;
      this.end = true;
      say(t("chartkeys.empty", { title: this.title() }));
      return;
    }
    let at;
    // The first key: Home the first point, End the last; an arrow the newest point of a
    // history, else → the first and ← the last.
    if (!this.active) at = delta === -Infinity || (!this.newest && delta > 0 && delta !== Infinity) ? 0 : stops.length - 1;
    else at = Math.max(0, Math.min(stops.length - 1, this.stopIndex(stops) + (Number.isFinite(delta) ? delta : delta * stops.length)));
    this.active = true;
    this.end = at === stops.length - 1;
    this.x = this.data[0].x[stops[at]];
    this.show(true);
  }

  movePoint(delta) {
    const n = this.points().length;
    if (!n) {
      say(t("chartkeys.empty", { title: this.title() }));
      return;
    }
    if (!Number.isFinite(delta)) this.at = delta < 0 ? 0 : n - 1; // Home, End
    else if (!this.active) this.at = delta < 0 ? n - 1 : 0; // → the first point, ← the last
    else this.at = Math.max(0, Math.min(n - 1, this.at + delta));
    this.active = true;
    this.show(true);
  }

  moveCell(axis, delta) {
    const z = this.data[0]?.z;
    if (!z?.length) return;
    if (this.active) {
      const clampTo = (v, n) => Math.max(0, Math.min(n - 1, Number.isFinite(delta) ? v + delta : delta < 0 ? 0 : n - 1));
      if (axis === "x") this.col = clampTo(this.col, z[this.row].length);
      else this.row = clampTo(this.row, z.length);
    }
    this.active = true;
    this.show(true);
  }

  /** Where the cursor's x value is among the stops now (its place, after the data changed). */
  stopIndex(stops) {
    const xs = this.data[0].x;
    if (this.end) return stops.length - 1;
    let best = 0;
    stops.forEach((k, i) => {
      const x = xs[k];
      if (x === this.x || (typeof x === "number" && typeof this.x === "number" && x <= this.x)) best = i;
    });
    return best;
  }

  /** Hover the points under the cursor; `speak`: say them too. */
  show(speak) {
    const P = window.Plotly;
    if (!this.active || !P?.Fx || !this.data.length) return;
    if (this.points) {
      this.prepare?.();
      const list = this.points();
      if (!list.length) return;
      this.at = Math.min(this.at, list.length - 1);
      const [c, k] = list[this.at];
      P.Fx.hover(this.gd, [{ curveNumber: c, pointNumber: k }]);
      const trace = this.data[c];
      if (speak) say(t("chartkeys.point", { name: this.nameOf(trace), k: this.at + 1, n: list.length, values: spoken(shown(trace, k)) }));
      return;
    }
    if (this.grid) {
      const z = this.data[0].z;
      this.row = Math.min(this.row, z.length - 1);
      this.col = Math.min(this.col, z[this.row].length - 1);
      // A heatmap's cell by its place on the axes: a category's place is its index, a
      // number's (bins along a linear axis) the number itself.
      const x = this.data[0].x?.[this.col];
      const linear = typeof x === "number" && this.gd._fullLayout?.xaxis?.type !== "category";
      P.Fx.hover(this.gd, { xval: linear ? x : this.col, yval: this.row });
      if (speak) say(this.cell(this.row, this.col));
      return;
    }
    const stops = this.stops();
    if (!stops.length) return;
    const k = stops[this.stopIndex(stops)];
    this.x = this.data[0].x[k];
    const traces = this.tracesAt(k);
    const shownTraces = this.data.filter((tr) => tr.visible !== false && tr.visible !== "legendonly").length;
    if (this.gd.layout?.hovermode === "x unified" && traces.length === shownTraces) {
      // Every trace has a point at this step: the mouse's own box (its title is the step).
      // Plotly places a category by its index ("1" would be the second bar, not bar "1").
      const xa = this.gd._fullLayout?.xaxis;
      P.Fx.hover(this.gd, { xval: xa?.type === "category" ? xa.d2c(this.x) : this.x });
    } else {
      P.Fx.hover(this.gd, traces.map((c) => ({ curveNumber: c, pointNumber: k })));
    }
    if (!speak) return;
    const sep = t("chartkeys.join");
    const values = traces.map((c) => t("chartkeys.value", { name: this.nameOf(this.data[c]), value: shown(this.data[c], k) }));
    say(t("chartkeys.say", { where: this.where(this.x), values: values.join(sep) }));
  }

  /** After each drawing (or a purge): the cursor's points again (a drawing clears the label), unsaid. */
  redrawn() {
    const drawn = this.data.length > 0;
    if (this.el.tabIndex !== (drawn ? 0 : -1)) this.el.tabIndex = drawn ? 0 : -1;
    if (!drawn) this.hide();
    else if (this.active) this.show(false);
  }

  hide() {
    if (!this.active) return;
    this.active = false;
    this.end = false;
    if (this.data.length) window.Plotly?.Fx?.unhover(this.gd);
  }
}
