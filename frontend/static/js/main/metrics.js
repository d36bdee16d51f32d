// Metrics from frames' `metrics`: test accuracy (classification) or R² (regression) in
// the status line, and the test set's confusion matrix as a Plotly heatmap.
import { fmt } from "../shared/format.js";
import { t } from "../shared/i18n.js";
import { ChartKeys } from "../shared/chart-keys.js";
import { className } from "./units.js";

const CONFIG = { displayModeBar: false, responsive: false, displaylogo: false };
const FONT = { family: "system-ui, 'Noto Sans CJK SC', 'Noto Sans', sans-serif", size: 13, color: "#1d2430" };
const REDRAW_MS = 1000; // the matrix changes slowly; Plotly redraws cost the playing page frames

export class MetricsView {
  constructor({ box, label, value, panel, chart }) {
    Object.assign(this, { box, label, value, panel, chart });
    this.metrics = null;
    this.drawn = null;
    this.timer = null;
    this.task = "binary";
    this.visible = true;
    this.labels = [];
    // By keyboard: ← → ↑ ↓ from cell to cell, said as its hover label prints it.
    this.keys = new ChartKeys(chart, {
      title: () => t("metrics.confusion_title"),
      grid: true,
      cell: (r, c) => t("chartkeys.cell", {
        row: `${t("metrics.true")}: ${this.labels[r]}`,
        col: `${t("metrics.predicted")}: ${this.labels[c]}`,
        value: this.chart.data?.[0]?.text?.[r]?.[c] ?? "",
      }),
    });
    if (typeof IntersectionObserver !== "undefined") {
      // Out of view (below the fold), the matrix is not redrawn; it catches up when shown.
      new IntersectionObserver((entries) => {
        this.visible = entries.at(-1).isIntersecting;
        if (this.visible && this.metrics && this.drawn !== this.metrics) this.drawConfusion();
      }).observe(chart);
    }
  }

  setTopology(topo) {
    this.data = topo.data;
    this.task = topo.data.task;
    this.metrics = null;
    this.drawn = null;
    this.panel.hidden = this.task === "regression";
    this.box.hidden = true;
  }

  update(frame) {
    const m = frame.metrics;
    if (!m || m === this.metrics) return;
    this.metrics = m;
    this.showValue();
    if (!this.panel.hidden && this.visible && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.drawConfusion();
      }, this.drawn ? REDRAW_MS : 0);
    }
  }

  showValue() {
    const m = this.metrics;
    if (!m) return;
    const regression = this.task === "regression";
    const v = regression ? m.test_r2 ?? m.train_r2 : m.test_acc ?? m.train_acc;
    const which = regression ? (m.test_r2 === null || m.test_r2 === undefined ? "train" : "test") : m.test_acc === null || m.test_acc === undefined ? "train" : "test";
    this.box.hidden = v === null || v === undefined;
    const label = t(regression ? `metrics.r2_${which}` : `metrics.acc_${which}`);
    if (this.label.textContent !== label) this.label.textContent = label;
    const text = v === null || v === undefined ? "—" : regression ? fmt(v, 3) : `${(100 * v).toFixed(1)}%`;
    if (this.value.textContent !== text) this.value.textContent = text;
    this.value.dataset.value = String(v);
  }

  drawConfusion() {
    const P = window.Plotly;
    const c = this.metrics?.confusion;
    if (!P || !c) return;
    // Class names in the reader's language (a built-in set's), else the data's own.
    const labels = c.labels.map((l, k) => (this.data?.class_names?.length === c.labels.length ? className(this.data, k) : String(l)));
    this.labels = labels;
    const n = labels.length;
    const max = Math.max(1, ...c.matrix.flat());
    const rect = this.chart.getBoundingClientRect();
    this.drawn = this.metrics;
    P.react(
      this.chart,
      [{
        type: "heatmap", z: c.matrix, x: labels, y: labels, colorscale: [[0, "#ffffff"], [1, "#3446b8"]], zmin: 0, zmax: max, showscale: false,
        text: c.matrix.map((row) => row.map(String)),
        hovertemplate: `${t("metrics.true")}: %{y}<br>${t("metrics.predicted")}: %{x}<br>%{text}<extra></extra>`, xgap: 1, ygap: 1,
      }],
      {
        margin: { l: Math.min(150, 44 + 7.5 * Math.max(...labels.map((s) => s.length))), r: 12, t: 8, b: 48 }, font: FONT, width: Math.round(rect.width) || 400, height: Math.round(rect.height) || 270, autosize: false,
        paper_bgcolor: "rgba(0,0,0,0)",
        xaxis: { title: { text: t("metrics.predicted"), standoff: 4 }, type: "category", tickfont: { size: n > 6 ? 11 : 13 } },
        yaxis: { title: { text: t("metrics.true") }, type: "category", autorange: "reversed", tickfont: { size: n > 6 ? 11 : 13 } },
        annotations: n <= 12 ? c.matrix.flatMap((row, i) => row.map((v, j) => ({ x: labels[j], y: labels[i], text: String(v), showarrow: false, font: { color: v > max / 2 ? "#ffffff" : "#1d2430", size: n > 6 ? 11 : 14 } }))) : [],
      },
      CONFIG,
    );
    this.keys.redrawn();
  }

  relabel() {
    this.keys.relabel();
    this.showValue();
    if (this.drawn) this.drawConfusion();
  }
}
