// The lab's Plotly charts: per side, the current per-layer gradient norms as bars and the
// per-layer "speed of learning" ‖mean δ‖ over time as lines (both log scale, on axes the
// two sides share); the loss of both sides overlaid; and, when frames carry them, the
// f′(z) histograms and dead-unit fractions per layer (saturation.js). Display only: every
// number is a frame's. Each chart is read by keyboard as the main page's are (chart-keys.js):
// every hover label prints a trace's `text` (fmt's rounding), and the cursor says that text.
import { COLORS } from "../shared/constants.js";
import { fmt } from "../shared/format.js";
import { t } from "../shared/i18n.js";
import { ChartKeys, touchLayout } from "../shared/chart-keys.js";
import { layerColor, SIDE_COLORS } from "./constants.js";

const CONFIG = { displayModeBar: false, responsive: true, displaylogo: false };
const FONT = { family: "system-ui, 'Noto Sans CJK SC', 'Noto Sans', sans-serif", size: 12, color: COLORS.ink };
const CAP = 1e30; // a diverging run's 1e300 cannot be placed in pixels
const FEW = 30; // fewer history points than this are drawn with markers (one point is no line)
// The speed-of-learning lines hold at most this many points: past it, each point is the
// geometric mean of a run of consecutive steps (said so on hover), so a long run stays a set
// of readable lines instead of a mass of per-batch noise.
const MAX_LINE_POINTS = 80;
// The step under the labels, marked as the unified boxes mark it (a dotted line across).
const SPIKE = { showspikes: true, spikemode: "across", spikesnap: "data", spikethickness: 1, spikedash: "dot", spikecolor: "#5b6472" };

export function layout(extra = {}) {
  return {
    margin: { l: 50, r: 8, t: 6, b: 34 },
    font: FONT,
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "#ffffff",
    showlegend: false,
    xaxis: { gridcolor: "#eceef2", zeroline: false, automargin: true },
    yaxis: { gridcolor: "#eceef2", zeroline: false, exponentformat: "power", automargin: true },
    ...touchLayout(),
    ...extra,
  };
}

// Plotly sizes a chart once, from its container; the lab's containers change size with the
// guide's text and the window, so every chart follows its container.
const watched = new WeakSet();
function watchSize(el) {
  if (watched.has(el)) return;
  watched.add(el);
  new ResizeObserver(() => {
    if (window.Plotly && el.querySelector(".main-svg")) window.Plotly.Plots.resize(el);
  }).observe(el);
}

/** Draw `traces` into `el`, then show the keyboard's cursor (`keys`) on them again. */
export function react(el, traces, layoutObj, keys) {
  watchSize(el);
  window.Plotly.react(el, traces, layoutObj, CONFIG);
  keys?.relabel();
  keys?.redrawn();
}

const positive = (v) => (Number.isFinite(v) && v > 0 ? Math.min(v, CAP) : null);
const finite = (v) => (Number.isFinite(v) ? Math.max(-CAP, Math.min(CAP, v)) : null);

/** Short layer names: 1, 2, … for hidden layers, ŷ for the output layer. */
export function layerName(l, L) {
  return l === L ? t("lab.output_short") : String(l);
}

/** A short layer name in words, as the keyboard's cursor says it: "layer 2", "output". */
export function layerWords(name) {
  return name === t("lab.output_short") ? t("lab.output_layer") : t("lab.layer", { l: name });
}

/** The history columns the lab keeps of each session (shared/history.js). */
export const HISTORY_KEYS = ["step", "train_loss", "test_loss", "delta_norm", "grad_norm"];

/** log10 range [lo, hi] covering every positive value given (null when none). */
export function logRange(values, pad = 0.25) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    const p = positive(v);
    if (p === null) continue;
    lo = Math.min(lo, p);
    hi = Math.max(hi, p);
  }
  if (lo === Infinity) return null;
  return [Math.log10(lo) - pad, Math.log10(hi) + pad];
}

/**
 * Consecutive runs of `steps` (at most `max` of them, as equal as can be): their middle
 * steps and their index spans [a, b). Fewer than `max` steps: one run per step.
 */
export function buckets(stepCol, max) {
  const n = stepCol.length;
  const k = Math.max(1, Math.ceil(n / max));
  const spans = [];
  for (let a = 0; a < n; a += k) spans.push([a, Math.min(n, a + k)]);
  const steps = spans.map(([a, b]) => (k === 1 ? stepCol[a] : (stepCol[a] + stepCol[b - 1]) / 2));
  return { steps, spans };
}

/** Per span, the geometric mean of the positive values in it (null when none). */
export function meanLog(values, spans) {
  return spans.map(([a, b]) => {
    let sum = 0;
    let count = 0;
    for (let i = a; i < b; i += 1) {
      const v = values[i];
      if (v !== null && v > 0) {
        sum += Math.log10(v);
        count += 1;
      }
    }
    return count ? 10 ** (sum / count) : null;
  });
}

/** One side's bars (current step) and lines (‖mean δ‖ over steps). */
export class SideCharts {
  /** `title(key)`: a chart's name from its string's key (the side's own words filled in). */
  constructor({ bars, lines }, title) {
    this.el = { bars, lines };
    this.topology = null;
    this.spans = new Map(); // a line point's step → the [first, last] step its mean is of
    this.keys = {
      bars: new ChartKeys(bars, { title: () => title("lab.keys.bars"), where: layerWords }),
      lines: new ChartKeys(lines, { title: () => title("lab.keys.lines"), where: (x) => this.stepWords(x), newest: true, name: (tr) => layerWords(tr.name) }),
    };
  }

  /** A line point's place in words: its step, or the steps its mean is of. */
  stepWords(x) {
    const [a, b] = this.spans.get(x) ?? [x, x];
    return a === b ? t("chartkeys.step", { step: a }) : t("lab.keys.mean_steps", { a, b });
  }

  setTopology(topology) {
    this.topology = topology;
  }

  /** Draw `frame` and `history` on the shared log ranges `ranges.bars`, `ranges.lines`. */
  draw(frame, history, ranges) {
    if (!window.Plotly || !this.topology) return;
    const L = this.topology.layers.length;
    const names = this.topology.layers.map((_, i) => layerName(i + 1, L));
    const layers = frame?.layers ?? [];
    const xTitle = { text: t("lab.axis_layer"), standoff: 2, font: { size: 11.5 } };
    react(
      this.el.bars,
      [
        bar(names, layers.map((x) => positive(x.norms?.delta)), t("lab.delta_norm"), COLORS.backward),
        bar(names, layers.map((x) => positive(x.norms?.dW)), t("lab.dw_norm"), COLORS.forward),
      ],
      layout({
        barmode: "group",
        bargap: 0.25,
        hovermode: "x unified",
        showlegend: true,
        legend: { orientation: "h", x: 0, y: 1.0, yanchor: "bottom", font: { size: 11.5 } },
        margin: { l: 50, r: 8, t: 22, b: 34 },
        xaxis: { type: "category", title: xTitle, automargin: true },
        yaxis: logAxis(ranges.bars),
        annotations: layers.some((x) => positive(x.norms?.dW) !== null) ? [] : [emptyNote(layers.some((x) => x.norms?.dW === 0))],
      }),
      this.keys.bars,
    );
    const h = history.cols;
    const { steps, spans } = buckets(h.step, MAX_LINE_POINTS);
    this.spans = new Map(steps.map((x, i) => [x, [h.step[spans[i][0]], h.step[spans[i][1] - 1]]]));
    // Each layer's label by its line (one box of nine layers is taller than the chart), each
    // saying what its point is the mean of: a short chart shows only the labels that fit.
    const means = spans.map(([a, b]) => (b - a > 1 ? `${t("lab.mean_of_steps", { a: h.step[a], b: h.step[b - 1] })}` : ""));
    const traces = [];
    for (let l = 1; l <= L; l += 1) {
      const y = meanLog(h.delta_norm.map((row) => positive(row?.[l - 1])), spans);
      traces.push({
        type: "scatter",
        mode: steps.length < FEW ? "lines+markers" : "lines",
        marker: { size: 5 },
        x: steps,
        y,
        text: y.map((v) => (v === null ? "" : fmt(v, 3))),
        name: layerName(l, L),
        line: { color: layerColor(l, L), width: 1.8 },
        customdata: means,
        hovertemplate: `${layerName(l, L)}: %{text} %{customdata}<extra></extra>`,
        connectgaps: true, // a point without δ (the evaluation's second point of a step) is no break
      });
    }
    const step = steps;
    react(
      this.el.lines,
      traces,
      layout({
        hovermode: "x",
        hoverlabel: { font: { size: 11 } }, // nine layers' labels in the chart's height
        showlegend: false,
        margin: { l: 50, r: 8, t: 6, b: 34 },
        annotations: step.length ? [] : [emptyNote()],
        xaxis: { title: { text: t("lab.axis_step"), standoff: 2, font: { size: 11.5 } }, gridcolor: "#eceef2", zeroline: false, automargin: true, ...SPIKE },
        yaxis: logAxis(ranges.lines),
      }),
      this.keys.lines,
    );
  }
}

/**
 * "No gradient yet" across an empty chart (before the first step); `zero`: the step ran and
 * every ‖∂L/∂W‖ is exactly 0 (dead units: nothing to draw on a log axis, but not "not yet").
 */
function emptyNote(zero = false, key = zero ? "lab.zero_gradient" : "lab.no_gradient") {
  const text = t(key);
  return { text, xref: "paper", yref: "paper", x: 0.5, y: 0.5, showarrow: false, font: { size: 13, color: zero ? COLORS.backward : COLORS.muted } };
}

/**
 * A log axis on a fixed range when given (log10 units). Over three decades or more one tick
 * per decade (or two); over fewer, where one decade tick or none falls in the range, ticks
 * at 1-2-5 steps (or finer) with their numbers written out.
 */
function logAxis(range) {
  const base = { type: "log", gridcolor: "#eceef2", exponentformat: "power", automargin: true };
  if (!range) return { ...base, autorange: true, dtick: 1 };
  const span = range[1] - range[0];
  const decades = Math.floor(range[1]) - Math.ceil(range[0]) + 1; // decade ticks inside the range
  if (decades >= 3) return { ...base, range, dtick: span > 5.5 ? 2 : 1 };
  const ticks = logTicks(range[0], range[1]);
  return { ...base, range, tickmode: "array", tickvals: ticks, ticktext: ticks.map((v) => fmt(v, 3)) };
}

/** Round values (m·10^k, m from the finest of three ladders giving ≥ 3) inside [10^lo, 10^hi]. */
export function logTicks(lo, hi) {
  const ladders = [[1], [1, 2, 5], [1, 1.5, 2, 3, 5, 7], [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 9]];
  let best = [];
  for (const ladder of ladders) {
    const ticks = [];
    for (let k = Math.floor(lo) - 1; k <= Math.ceil(hi); k += 1) {
      for (const m of ladder) {
        const v = m * 10 ** k;
        const lv = Math.log10(v);
        if (lv >= lo && lv <= hi) ticks.push(Number(v.toPrecision(3)));
      }
    }
    best = ticks;
    if (ticks.length >= 3) break;
  }
  return best.length > 8 ? best.filter((_, i) => i % Math.ceil(best.length / 8) === 0) : best;
}

/** Bars of `y` by layer; each label prints `show(value)` (3 significant digits). */
export function bar(x, y, name, color, show = (v) => fmt(v, 3)) {
  const text = y.map((v) => (v === null ? "" : show(v)));
  return { type: "bar", x, y, name, text, textposition: "none", marker: { color }, hovertemplate: `${name}: %{text}<extra></extra>` };
}

/** The loss of both sides in one chart (train solid, test dotted); the legend shows each side's batch loss now. */
export class LossChart {
  constructor(el) {
    this.el = el;
    // Each line said by its label's words ("sigmoid · train"), not its legend's (with the loss now).
    this.keys = new ChartKeys(el, { title: () => t("lab.loss_title"), where: (step) => t("chartkeys.step", { step }), newest: true, name: (tr) => tr.meta });
  }

  draw(sides) {
    if (!window.Plotly) return;
    const traces = [];
    const values = [];
    for (const { history } of sides) values.push(...history.cols.train_loss, ...history.cols.test_loss);
    for (const { key, name, history, loss } of sides) {
      const h = history.cols;
      const label = `${name}: ${fmt(loss, 4)}`;
      traces.push(lossLine(h.step, h.train_loss, label, SIDE_COLORS[key], "solid", `${name} · ${t("lab.train")}`));
      traces.push({ ...lossLine(h.step, h.test_loss, name, SIDE_COLORS[key], "dot", `${name} · ${t("lab.test")}`), showlegend: false });
    }
    react(
      this.el,
      traces,
      layout({
        hovermode: "x unified",
        showlegend: true,
        legend: { orientation: "h", x: 0, y: 1.0, yanchor: "bottom", font: { size: 11 } },
        margin: { l: 46, r: 8, t: 20, b: 34 },
        xaxis: { title: { text: t("lab.axis_step"), standoff: 2, font: { size: 11.5 } }, gridcolor: "#eceef2", zeroline: false, automargin: true },
        yaxis: { ...logAxis(logRange(values, 0.08)), title: { text: t("lab.loss"), font: { size: 11.5 } } },
        annotations: sides.some(({ history }) => history.length) ? [] : [emptyNote(false, "lab.no_loss")],
      }),
      this.keys,
    );
  }
}

function lossLine(x, y, name, color, dash, hoverName) {
  const ys = y.map(finite);
  return {
    type: "scatter",
    mode: x.length < FEW ? "lines+markers" : "lines",
    marker: { size: 5 },
    x: x.slice(),
    y: ys,
    text: ys.map((v) => (v === null ? "" : fmt(v, 4))),
    name,
    meta: hoverName,
    line: { color, width: dash === "solid" ? 2.5 : 1.8, dash },
    hovertemplate: `${hoverName}: %{text}<extra></extra>`,
    // A step burst evaluates the whole sets only at some steps (docs/protocol.md): the line
    // joins the measured points, as on the main page, instead of breaking at every burst.
    connectgaps: true,
  };
}
