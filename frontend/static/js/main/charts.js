// Training charts (Plotly): loss train/test (log-scale toggle), accuracy, per-layer
// gradient norm over steps (log scale) and the current per-layer norms as bars.
// Only measured values are drawn: the train and test sets are evaluated at some history
// points (the others hold null, never a copy), and a line joins the measured points; the
// batch loss, measured at every step before its update, is a series of its own.
// History arrives in increments inside frames and is kept here; the charts are redrawn
// apart from the frames: ~3 times per second while playing, new points appended with
// Plotly.extendTraces, one chart per task (after a frame's rendering, when layout is
// clean), at a fixed size (no re-measuring), and a chart out of view less often.
// Each trace carries its hover strings (`text`, fmt's 4 digits): the label prints them, and
// the keyboard's cursor (chart-keys.js) says the very same strings.
import { chartScale, COLORS, LAYER_COLORS, TIMINGS } from "../shared/constants.js";
import { fmt } from "../shared/format.js";
import { History } from "../shared/history.js";
import { t } from "../shared/i18n.js";
import { ChartKeys, touchLayout } from "../shared/chart-keys.js";

const CONFIG = { displayModeBar: false, responsive: false, displaylogo: false };
const FONT = { family: "system-ui, 'Noto Sans CJK SC', 'Noto Sans', sans-serif", size: 13, color: COLORS.ink };
const NAMES = ["loss", "accuracy", "gradNorm", "gradBars"];
const LINE_CHARTS = new Set(["loss", "accuracy", "gradNorm"]);
const HIDDEN_EVERY = 6; // while playing, a chart out of view is redrawn every 6th round
const HISTORY_KEYS = ["step", "train_loss", "test_loss", "train_acc", "test_acc", "batch_loss", "grad_norm", "delta_norm"];
const TITLES = { loss: "charts.loss_title", accuracy: "charts.accuracy_title", gradNorm: "charts.grad_title", gradBars: "charts.bars_title" };

function baseLayout(extra = {}) {
  const k = chartScale();
  return {
    margin: { l: Math.round(56 * k), r: 12, t: 8, b: Math.round(40 * k) },
    font: { ...FONT, size: Math.round(FONT.size * k) },
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "#ffffff",
    hovermode: "x unified",
    showlegend: true,
    legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom", font: { size: Math.round(12 * k) } },
    xaxis: { title: { text: t("charts.step"), standoff: 4 }, gridcolor: "#eceef2", zeroline: false },
    yaxis: { gridcolor: "#eceef2", zeroline: false, exponentformat: "power" },
    ...touchLayout(),
    ...extra,
  };
}

export class Charts {
  constructor({ loss, accuracy, gradNorm, gradBars, logToggle, accuracyPanel }) {
    this.el = { loss, accuracy, gradNorm, gradBars, accuracyPanel };
    this.logToggle = logToggle;
    this.lossLog = true;
    this.hist = new History(HISTORY_KEYS);
    this.frame = null;
    this.viewing = null;
    this.topology = null;
    this.playing = false;
    this.timer = null;
    this.lastDraw = -Infinity;
    this.queue = [];
    this.round = 0;
    // Per chart: history points it shows, whether it must be drawn from scratch, its size.
    this.drawn = Object.fromEntries(NAMES.map((n) => [n, 0]));
    this.full = new Set(NAMES);
    this.barsFrame = null;
    this.size = {};
    this.visible = {};
    const atStep = (step) => t("chartkeys.step", { step });
    this.keys = Object.fromEntries(NAMES.map((n) => [n, new ChartKeys(this.el[n], { title: () => t(TITLES[n]), ...(n === "gradBars" ? {} : { where: atStep, newest: true }) })]));
    const byElement = new Map(NAMES.map((n) => [this.el[n], n]));
    if (typeof ResizeObserver !== "undefined") {
      this.resizer = new ResizeObserver((entries) => {
        for (const entry of entries) {
          const name = byElement.get(entry.target);
          const w = Math.round(entry.contentRect.width);
          const h = Math.round(entry.contentRect.height);
          if (!name || w < 10 || h < 10) continue;
          const old = this.size[name];
          if (old && old.w === w && old.h === h) continue;
          this.size[name] = { w, h };
          this.full.add(name);
          this.schedule(this.playing);
        }
      });
      for (const n of NAMES) this.resizer.observe(this.el[n]);
    }
    if (typeof IntersectionObserver !== "undefined") {
      this.viewer = new IntersectionObserver((entries) => {
        for (const entry of entries) {
          const name = byElement.get(entry.target);
          if (!name) continue;
          const was = this.visible[name];
          this.visible[name] = entry.isIntersecting;
          if (entry.isIntersecting && was === false) this.enqueue([name]); // scrolled into view
        }
      });
      for (const n of NAMES) this.viewer.observe(this.el[n]);
    }
    this.logToggle.addEventListener("click", () => {
      this.lossLog = !this.lossLog;
      this.logToggle.setAttribute("aria-pressed", String(this.lossLog));
      this.full.add("loss");
      this.enqueue(["loss"]);
    });
    this.logToggle.setAttribute("aria-pressed", "true");
  }

  get Plotly() {
    return window.Plotly;
  }

  setTopology(topology) {
    this.topology = topology;
    this.hist.clear();
    this.frame = null;
    this.el.accuracyPanel.hidden = topology.data.task === "regression";
    for (const n of NAMES) this.full.add(n);
    this.draw();
  }

  /** The history: one array per column (`step`, `train_loss`, …). */
  get history() {
    return this.hist.cols;
  }

  /** Number of history points the loss chart holds (for tests and the status line). */
  get points() {
    return this.hist.length;
  }

  /** Take a frame's history increment (every frame, even one the page does not draw). */
  ingest(h) {
    if (this.hist.add(h)) for (const n of LINE_CHARTS) this.full.add(n);
  }

  update(frame) {
    if (frame !== this.ingested) this.ingest(frame.history);
    const viewing = frame.viewing ?? null;
    if (viewing !== this.viewing) {
      // A past step shown (rewind): a marker at that step on the line charts.
      this.viewing = viewing;
      for (const n of LINE_CHARTS) this.full.add(n);
    }
    this.ingested = null;
    this.frame = frame;
    const penalized = this.penalized();
    if (penalized !== this.wasPenalized) {
      this.wasPenalized = penalized; // the train line's name says "data loss" or not
      this.full.add("loss");
    }
    this.playing = Boolean(frame.playing);
    this.schedule(this.playing);
  }

  /** `ingest` now and `update` later with the same frame: its history counts once. */
  receive(frame) {
    this.ingest(frame.history);
    this.ingested = frame;
  }

  schedule(playing) {
    // A pause (or a step) does not wait for a redraw timed at the slower playing pace.
    if (this.timer && this.timerPlaying && !playing) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.timer) return;
    this.timerPlaying = playing;
    const every = playing ? TIMINGS.chartPlayMs : TIMINGS.chartThrottleMs;
    const wait = Math.max(0, every - (performance.now() - this.lastDraw));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.lastDraw = performance.now();
      this.round += 1;
      // Charts out of view are brought up to date less often (and at once when shown).
      const sparse = this.playing && this.round % HIDDEN_EVERY !== 0;
      this.enqueue(NAMES.filter((n) => !(sparse && this.visible[n] === false)));
    }, wait);
  }

  /** Draw these charts, one per task, each after the next rendering of the page. */
  enqueue(names) {
    for (const n of names) if (!this.queue.includes(n)) this.queue.push(n);
    if (this.pumping) return;
    this.pumping = true;
    const pump = () => {
      const name = this.queue.shift();
      if (!name) {
        this.pumping = false;
        return;
      }
      this.drawOne(name);
      requestAnimationFrame(() => setTimeout(pump, 0));
    };
    requestAnimationFrame(() => setTimeout(pump, 0));
  }

  relabel() {
    for (const n of NAMES) {
      this.full.add(n);
      this.keys[n].relabel();
    }
    this.draw();
  }

  /** Draw every chart now. */
  draw() {
    this.queue = [];
    for (const n of NAMES) this.drawOne(n);
  }

  layout(name, extra) {
    const layout = baseLayout(extra);
    const size = this.size[name];
    if (size) Object.assign(layout, { width: size.w, height: size.h, autosize: false });
    return layout;
  }

  drawOne(name) {
    const P = this.Plotly;
    if (!P || !this.topology) return;
    if (name === "accuracy" && this.el.accuracyPanel.hidden) return;
    if (name === "gradBars") {
      this.drawBars();
      return;
    }
    const el = this.el[name];
    const n = this.hist.length;
    const fresh = this.full.has(name) || !el.data || el.data.length !== this.traceCount(name);
    if (!fresh && n === this.drawn[name]) return;
    if (fresh) {
      this.full.delete(name);
      P.react(el, this.traces(name, 0), this.chartLayout(name), CONFIG);
    } else {
      const traces = this.traces(name, this.drawn[name]);
      P.extendTraces(el, { x: traces.map((tr) => tr.x), y: traces.map((tr) => tr.y), text: traces.map((tr) => tr.text) }, traces.map((_, k) => k));
    }
    this.drawn[name] = n;
    this.keys[name].redrawn();
  }

  traceCount(name) {
    return name === "gradNorm" ? this.topology.layers.length : name === "loss" ? 3 : 2;
  }

  /** Whether an L1/L2 penalty is on (then the train line is the data loss, and says so). */
  penalized() {
    const hyper = this.frame?.hyper ?? this.topology?.config?.training ?? {};
    return hyper.l1 > 0 || hyper.l2 > 0;
  }

  layerName(l) {
    const L = this.topology.layers.length;
    return l === L ? t("charts.output_layer") : t("charts.layer", { l });
  }

  /** The traces of a line chart from history point `from` on (new arrays each time). */
  traces(name, from) {
    const h = this.history;
    const x = h.step.slice(from);
    if (name === "loss") {
      const data = this.penalized() ? "charts.train_data_after" : "charts.train_after";
      return [
        { ...line(x, padded(h.batch_loss, from, x.length), t("charts.batch_before"), COLORS.muted, "solid", 1.2), opacity: 0.6 },
        line(x, h.train_loss.slice(from), t(data), COLORS.train),
        line(x, h.test_loss.slice(from), t("charts.test_after"), COLORS.test, "dot"),
      ];
    }
    if (name === "accuracy") {
      return [
        line(x, h.train_acc.slice(from), t("charts.train_after"), COLORS.train),
        line(x, h.test_acc.slice(from), t("charts.test_after"), COLORS.test, "dot"),
      ];
    }
    const rows = h.grad_norm.slice(from);
    const out = [];
    for (let l = 1; l <= this.topology.layers.length; l += 1) {
      out.push(line(x, rows.map((row) => positive(row?.[l - 1])), this.layerName(l), LAYER_COLORS[(l - 1) % LAYER_COLORS.length]));
    }
    return out;
  }

  chartLayout(name) {
    const layout = this.chartLayoutBase(name);
    if (this.viewing !== null && this.viewing !== undefined) {
      layout.shapes = [{ type: "line", xref: "x", yref: "paper", x0: this.viewing, x1: this.viewing, y0: 0, y1: 1, line: { color: COLORS.loss ?? "#6b3fa0", width: 2, dash: "dash" } }];
    }
    return layout;
  }

  chartLayoutBase(name) {
    const yaxis = baseLayout().yaxis;
    if (name === "loss") {
      return this.layout(name, { yaxis: { ...yaxis, type: this.lossLog ? "log" : "linear", title: { text: t("charts.loss") } } });
    }
    if (name === "accuracy") {
      return this.layout(name, { yaxis: { ...yaxis, range: [0, 1.02], tickformat: ".0%", title: { text: t("charts.accuracy") } } });
    }
    return this.layout(name, { yaxis: { ...yaxis, type: "log", title: { text: "‖∂L/∂W‖" } } });
  }

  drawBars() {
    if (this.frame === this.barsFrame && !this.full.has("gradBars")) return;
    this.barsFrame = this.frame;
    this.full.delete("gradBars");
    const layers = this.frame?.layers ?? [];
    const names = layers.map((_, k) => this.layerName(k + 1));
    this.Plotly.react(
      this.el.gradBars,
      [
        bars(names, layers.map((x) => positive(x.norms?.delta)), t("charts.delta_norm"), COLORS.backward),
        bars(names, layers.map((x) => positive(x.norms?.dW)), t("charts.dw_norm"), COLORS.forward),
      ],
      this.layout("gradBars", {
        barmode: "group",
        hovermode: "closest",
        xaxis: { gridcolor: "#eceef2" },
        yaxis: { ...baseLayout().yaxis, type: "log", title: { text: t("charts.norm") } },
      }),
      CONFIG,
    );
    this.keys.gradBars.redrawn();
  }
}

// A diverging run sends numbers like 1e300 before it sends null; Plotly cannot place
// those in pixels, so the charts cap them (the value is "exploded" either way).
const CAP = 1e30;

function positive(v) {
  return Number.isFinite(v) && v > 0 ? Math.min(v, CAP) : null;
}

function capped(values) {
  return values.map((v) => (Number.isFinite(v) ? Math.max(-CAP, Math.min(CAP, v)) : null));
}

/** A column from `from` on, as long as the steps (a column the server did not send is null). */
function padded(col, from, n) {
  const out = (col ?? []).slice(from, from + n);
  while (out.length < n) out.push(null);
  return out;
}

/** A line through the measured points: a null is a point not measured, joined over. */
function line(x, y, name, color, dash = "solid", width = 2.5) {
  return {
    type: "scatter",
    mode: "lines",
    x,
    y: capped(y),
    text: y.map((v) => (v === null || v === undefined ? "" : fmt(v, 4))),
    name,
    line: { color, width, dash },
    hovertemplate: "%{text}",
    connectgaps: true,
  };
}

function bars(x, y, name, color) {
  return { type: "bar", x, y, name, text: y.map((v) => (v === null ? "" : fmt(v, 3))), textposition: "none", marker: { color }, hovertemplate: "%{text}" };
}
