// Training charts (Plotly): loss train/test (log-scale toggle), accuracy, per-layer
// gradient norm over steps (log scale) and the current per-layer norms as bars.
// History arrives in increments inside frames; redraws are throttled while playing.
import { COLORS, LAYER_COLORS, TIMINGS } from "./constants.js";
import { t } from "./i18n.js";

const CONFIG = { displayModeBar: false, responsive: true, displaylogo: false };
const FONT = { family: "system-ui, 'Noto Sans CJK SC', 'Noto Sans', sans-serif", size: 13, color: COLORS.ink };

function baseLayout(extra = {}) {
  return {
    margin: { l: 56, r: 12, t: 8, b: 40 },
    font: FONT,
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "#ffffff",
    hovermode: "x unified",
    showlegend: true,
    legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom", font: { size: 12 } },
    xaxis: { title: { text: t("charts.step"), standoff: 4 }, gridcolor: "#eceef2", zeroline: false },
    yaxis: { gridcolor: "#eceef2", zeroline: false, exponentformat: "power" },
    ...extra,
  };
}

export class Charts {
  constructor({ loss, accuracy, gradNorm, gradBars, logToggle, accuracyPanel }) {
    this.el = { loss, accuracy, gradNorm, gradBars, accuracyPanel };
    this.logToggle = logToggle;
    this.lossLog = true;
    this.history = emptyHistory();
    this.frame = null;
    this.topology = null;
    this.timer = null;
    this.lastDraw = 0;
    this.logToggle.addEventListener("click", () => {
      this.lossLog = !this.lossLog;
      this.logToggle.setAttribute("aria-pressed", String(this.lossLog));
      this.draw();
    });
    this.logToggle.setAttribute("aria-pressed", "true");
  }

  get Plotly() {
    return window.Plotly;
  }

  setTopology(topology) {
    this.topology = topology;
    this.history = emptyHistory();
    this.el.accuracyPanel.hidden = topology.data.task === "regression";
    this.draw();
  }

  /** Number of history points the loss chart holds (for tests and the status line). */
  get points() {
    return this.history.step.length;
  }

  update(frame) {
    this.frame = frame;
    const h = frame.history;
    if (h) {
      if (h.reset) this.history = emptyHistory();
      const start = Number.isInteger(h.start) ? h.start : this.history.step.length;
      for (const key of Object.keys(this.history)) {
        if (start < this.history[key].length) this.history[key].length = start;
        if (Array.isArray(h[key])) this.history[key].push(...h[key]);
      }
    }
    this.schedule(frame.playing);
  }

  schedule(throttled) {
    if (!throttled) {
      this.draw();
      return;
    }
    if (this.timer) return;
    const wait = Math.max(0, TIMINGS.chartThrottleMs - (performance.now() - this.lastDraw));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.draw();
    }, wait);
  }

  relabel() {
    this.draw();
  }

  draw() {
    if (!this.Plotly || !this.topology) return;
    this.lastDraw = performance.now();
    // Plotly.react redraws only what changed by reference: hand it fresh arrays.
    const h = Object.fromEntries(Object.entries(this.history).map(([k, v]) => [k, v.slice()]));
    const P = this.Plotly;
    P.react(
      this.el.loss,
      [
        line(h.step, h.train_loss, t("charts.train"), COLORS.train),
        line(h.step, h.test_loss, t("charts.test"), COLORS.test, "dot"),
      ],
      baseLayout({ yaxis: { ...baseLayout().yaxis, type: this.lossLog ? "log" : "linear", title: { text: t("charts.loss") } } }),
      CONFIG,
    );
    if (!this.el.accuracyPanel.hidden) {
      P.react(
        this.el.accuracy,
        [
          line(h.step, h.train_acc, t("charts.train"), COLORS.train),
          line(h.step, h.test_acc, t("charts.test"), COLORS.test, "dot"),
        ],
        baseLayout({ yaxis: { ...baseLayout().yaxis, range: [0, 1.02], tickformat: ".0%", title: { text: t("charts.accuracy") } } }),
        CONFIG,
      );
    }
    const L = this.topology.layers.length;
    const layerName = (l) => (l === L ? t("charts.output_layer") : t("charts.layer", { l }));
    const gradTraces = [];
    for (let l = 1; l <= L; l += 1) {
      gradTraces.push(
        line(h.step, h.grad_norm.map((row) => positive(row?.[l - 1])), layerName(l), LAYER_COLORS[(l - 1) % LAYER_COLORS.length]),
      );
    }
    P.react(
      this.el.gradNorm,
      gradTraces,
      baseLayout({ yaxis: { ...baseLayout().yaxis, type: "log", title: { text: "‖∂L/∂W‖" } } }),
      CONFIG,
    );
    const layers = this.frame?.layers ?? [];
    const names = layers.map((_, k) => layerName(k + 1));
    P.react(
      this.el.gradBars,
      [
        bars(names, layers.map((x) => positive(x.norms?.delta)), t("charts.delta_norm"), COLORS.backward),
        bars(names, layers.map((x) => positive(x.norms?.dW)), t("charts.dw_norm"), COLORS.forward),
      ],
      baseLayout({
        barmode: "group",
        hovermode: "closest",
        xaxis: { gridcolor: "#eceef2" },
        yaxis: { ...baseLayout().yaxis, type: "log", title: { text: t("charts.norm") } },
      }),
      CONFIG,
    );
  }
}

function emptyHistory() {
  return { step: [], train_loss: [], test_loss: [], train_acc: [], test_acc: [], grad_norm: [], delta_norm: [] };
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

function line(x, y, name, color, dash = "solid") {
  return {
    type: "scatter",
    mode: "lines",
    x,
    y: capped(y),
    name,
    line: { color, width: 2.5, dash },
    hovertemplate: "%{y:.4g}",
    connectgaps: false,
  };
}

function bars(x, y, name, color) {
  return { type: "bar", x, y, name, marker: { color }, hovertemplate: "%{y:.3g}" };
}
