// The gradient check panel: backprop's gradient against central differences for every
// parameter (a table and a heatmap of log10 relative error), and the measured cost of both
// methods against the parameter count (log-log). Never touches the socket.
import { fmt } from "../shared/format.js";
import { t } from "../shared/i18n.js";
import { ChartKeys, touchLayout } from "../shared/chart-keys.js";

const PASS = 1e-6;
const CONFIG = { displayModeBar: false, responsive: false, displaylogo: false };
const FONT = { family: "system-ui, 'Noto Sans CJK SC', 'Noto Sans', sans-serif", size: 13, color: "#1d2430" };
const TABLE_ROWS = 400; // the table lists the worst entries first; the heatmap shows all

export class GradcheckPanel {
  constructor(dialog, { onRun, onScaling }) {
    this.dialog = dialog;
    const q = (s) => dialog.querySelector(s);
    this.el = { summary: q("#gc-summary"), table: q("#gc-table"), heat: q("#gc-heat"), scaling: q("#gc-scaling"), note: q("#gc-scaling-note"), busy: q("#gc-busy") };
    this.result = null;
    this.points = null;
    this.busy = null;
    q("#gc-run").addEventListener("click", () => this.run(onRun, "gradcheck"));
    q("#gc-scale").addEventListener("click", () => this.run(onScaling, "gradcheck_scaling"));
    this.onRun = onRun;
    // By keyboard (chart-keys.js): the heatmap cell by cell, the timings point by point.
    this.keys = {
      heat: new ChartKeys(this.el.heat, { title: () => t("gc.heat_title"), grid: true, cell: (r, c) => this.el.heat.data?.[0]?.text?.[r]?.[c] || "—" }),
      scaling: new ChartKeys(this.el.scaling, { title: () => t("gc.scaling_title"), where: (n) => `${t("gc.n_params")} = ${n}` }),
    };
    // The charts are as wide as their column, which shrinks on a narrow screen (page.css).
    this.right = q(".gc-right");
    this.rightWidth = 0;
    if (typeof ResizeObserver !== "undefined") {
      new ResizeObserver(() => {
        const w = this.right.clientWidth;
        if (!w || w === this.rightWidth) return;
        this.rightWidth = w;
        if (this.result) this.renderHeat(this.result.entries);
        this.renderScaling();
      }).observe(this.right);
    }
  }

  /** The charts' width: their column's (Plotly's default while the dialog is closed). */
  chartWidth() {
    return this.right.clientWidth || undefined;
  }

  run(fn, what) {
    this.busy = what;
    this.el.busy.textContent = t("gc.measuring");
    fn();
  }

  open() {
    if (!this.dialog.open) this.dialog.showModal();
    if (!this.result) this.run(this.onRun, "gradcheck");
  }

  /** A new network: old results no longer apply. */
  invalidate() {
    this.result = null;
    this.points = null;
    if (this.dialog.open) this.render();
  }

  setResult(result) {
    this.result = result;
    if (this.busy === "gradcheck") this.done();
    this.render();
  }

  setScaling(points) {
    this.points = points;
    if (this.busy === "gradcheck_scaling") this.done();
    this.renderScaling();
  }

  done() {
    this.busy = null;
    this.el.busy.textContent = "";
  }

  relabel() {
    for (const keys of Object.values(this.keys)) keys.relabel();
    if (this.busy) this.el.busy.textContent = t("gc.measuring");
    this.render();
  }

  render() {
    const r = this.result;
    const { summary, table, heat } = this.el;
    if (!r) {
      summary.replaceChildren();
      table.replaceChildren();
      if (window.Plotly) window.Plotly.purge(heat);
      this.keys.heat.redrawn();
      this.renderScaling();
      return;
    }
    const pass = r.max_rel_error !== null && r.max_rel_error < PASS;
    summary.className = `gc-summary ${pass ? "pass" : "fail"}`;
    summary.innerHTML = "";
    const badge = document.createElement("strong");
    badge.className = "gc-badge";
    badge.textContent = pass ? t("gc.pass") : t("gc.fail");
    const text = document.createElement("span");
    text.id = "gc-max";
    text.dataset.value = String(r.max_rel_error);
    text.textContent = t("gc.summary", {
      max: fmt(r.max_rel_error, 3),
      tol: "10⁻⁶",
      checked: r.n_checked,
      params: r.n_params,
      examples: r.n_examples ?? "?",
      tb: fmtTime(r.time_backprop_s),
      tn: fmtTime(r.time_numeric_s),
    });
    summary.append(badge, " ", text);
    // The table: worst first.
    const entries = [...r.entries].sort((a, b) => (b.rel_error ?? 0) - (a.rel_error ?? 0));
    const head = document.createElement("tr");
    for (const k of ["gc.col_param", "gc.col_analytic", "gc.col_numeric", "gc.col_error"]) {
      const th = document.createElement("th");
      th.textContent = t(k);
      head.appendChild(th);
    }
    const rows = entries.slice(0, TABLE_ROWS).map((e) => {
      const tr = document.createElement("tr");
      const name = `${e.param}${subscript(e.layer)}[${e.index.join(",")}]`;
      const cells = [name, fmt(e.analytic, 6), fmt(e.numeric, 6), fmt(e.rel_error, 2)];
      cells.forEach((c, k) => {
        const td = document.createElement("td");
        td.textContent = c;
        if (k === 3) {
          td.style.background = errorColor(e.rel_error);
          if (e.rel_error >= PASS) td.classList.add("bad");
        }
        tr.appendChild(td);
      });
      return tr;
    });
    table.replaceChildren(head, ...rows);
    this.renderHeat(r.entries);
    this.renderScaling();
  }

  renderHeat(entries) {
    const P = window.Plotly;
    if (!P) return;
    // One row per layer's W and b; one column per parameter index (flattened).
    const rows = new Map();
    for (const e of entries) {
      const key = `${e.param}${subscript(e.layer)}`;
      if (!rows.has(key)) rows.set(key, []);
      rows.get(key).push(e);
    }
    const names = [...rows.keys()];
    const width = Math.max(...[...rows.values()].map((r) => r.length));
    const z = names.map((n) => {
      const r = rows.get(n);
      return Array.from({ length: width }, (_, k) => (r[k] ? Math.log10(Math.max(r[k].rel_error, 1e-16)) : null));
    });
    const text = names.map((n) => {
      const r = rows.get(n);
      return Array.from({ length: width }, (_, k) => (r[k] ? `${n}[${r[k].index.join(",")}]: ${fmt(r[k].rel_error, 3)}` : ""));
    });
    P.react(
      this.el.heat,
      [{
        type: "heatmap", z, y: names, text, hoverinfo: "text", zmin: -14, zmax: -2,
        colorscale: [[0, "#e3f3e6"], [0.5, "#8fcf9c"], [0.66, "#f5d76e"], [1, "#c2255c"]],
        colorbar: { title: { text: "log₁₀ err", side: "right" }, thickness: 12, tickvals: [-14, -10, -6, -2] },
        xgap: 1, ygap: 1,
      }],
      { margin: { l: 48, r: 8, t: 26, b: 24 }, font: FONT, height: 165, width: this.chartWidth(), title: { text: t("gc.heat_title"), font: { size: 13 }, x: 0, xanchor: "left" }, xaxis: { showticklabels: false }, yaxis: { autorange: "reversed" }, paper_bgcolor: "rgba(0,0,0,0)" },
      CONFIG,
    );
    this.keys.heat.redrawn();
  }

  renderScaling() {
    const P = window.Plotly;
    const pts = this.points;
    this.el.note.hidden = !pts;
    if (!P) return;
    if (!pts) {
      P.purge(this.el.scaling);
      this.keys.scaling.redrawn();
      return;
    }
    const x = pts.map((p) => p.n_params);
    // The label prints the times as the table does (µs, ms, s), and the keyboard says the same.
    const times = (key) => ({ y: pts.map((p) => p[key]), text: pts.map((p) => fmtTime(p[key])), hovertemplate: `${t("gc.n_params")} = %{x}<br>%{text}` });
    P.react(
      this.el.scaling,
      [
        { type: "scatter", mode: "lines+markers", x, ...times("time_backprop_s"), name: t("gc.backprop"), line: { color: "#3446b8", width: 2.5 } },
        { type: "scatter", mode: "lines+markers", x, ...times("time_numeric_s"), name: t("gc.numeric"), line: { color: "#c2255c", width: 2.5 } },
      ],
      {
        margin: { l: 72, r: 8, t: 26, b: 40 }, font: FONT, height: 215, width: this.chartWidth(), paper_bgcolor: "rgba(0,0,0,0)", ...touchLayout(),
        title: { text: t("gc.scaling_title"), font: { size: 13 }, x: 0, xanchor: "left" },
        legend: { orientation: "h", x: 0, y: -0.3 },
        xaxis: { type: "log", title: { text: t("gc.n_params"), standoff: 2 }, exponentformat: "power" },
        yaxis: { type: "log", title: { text: t("gc.seconds") }, exponentformat: "power" },
      },
      CONFIG,
    );
    this.keys.scaling.redrawn();
  }
}

function subscript(n) {
  return String(n).replace(/\d/g, (d) => "₀₁₂₃₄₅₆₇₈₉"[d]);
}

function fmtTime(s) {
  if (s === null || s === undefined) return "—";
  return s < 1e-3 ? `${fmt(s * 1e6, 3)} µs` : s < 1 ? `${fmt(s * 1e3, 3)} ms` : `${fmt(s, 3)} s`;
}

/** A light colour for log10(relative error): green when tiny, yellow near 1e-6, red above. */
function errorColor(e) {
  if (!Number.isFinite(e)) return "#f6c9d8";
  const l = Math.log10(Math.max(e, 1e-16));
  if (l < -9) return "#e3f3e6";
  if (l < -6) return "#f0f6d8";
  if (l < -4) return "#fbeec2";
  return "#f6c9d8";
}
