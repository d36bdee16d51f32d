// What the network computes over the input space: the decision boundary (2-D data) as a
// heatmap under the data points, the fitted curve (1-D data), the class probabilities of
// the focused example (digits), and one thumbnail per hidden neuron (from `grid`).
import { COLORS, SIZES } from "./constants.js";
import { dequantize, diverging, plotlyColorscale } from "./format.js";
import { t } from "./i18n.js";

const CONFIG = { displayModeBar: false, responsive: true, displaylogo: false };
const FONT = { family: "system-ui, 'Noto Sans CJK SC', 'Noto Sans', sans-serif", size: 12, color: COLORS.ink };

export class OutputView {
  constructor({ plot, thumbs, caption }) {
    this.plot = plot;
    this.thumbs = thumbs;
    this.caption = caption;
    this.topology = null;
    this.grid = null;
    this.frame = null;
    this.thumbViews = [];
  }

  setTopology(topology) {
    this.topology = topology;
    this.grid = null;
    this.lastPrediction = null;
    this.points = dataPoints(topology.data);
    this.thumbs.replaceChildren();
    this.thumbViews = [];
    this.relabel();
  }

  relabel() {
    if (!this.topology) return;
    const key = { 2: "output.boundary", 1: "output.curve" }[this.topology.data.n_features] ?? "output.probabilities";
    this.caption.textContent = t(key);
    if (this.grid) this.drawGrid();
    else if (this.frame && this.topology.data.n_features > 2) this.drawProbabilities();
  }

  update(grid) {
    this.grid = grid;
    this.drawGrid();
    this.drawThumbs();
  }

  /** Frames matter only for the class probabilities of a data set without a grid (digits). */
  updateFrame(frame) {
    this.frame = frame;
    if (!this.grid && this.topology?.data.n_features > 2) this.drawProbabilities();
  }

  drawGrid() {
    const g = this.grid;
    const P = window.Plotly;
    if (!g || !P) return;
    const values = gridValues(g.output);
    const range = gridRange(values);
    const task = this.topology.data.task;
    const layout = {
      margin: { l: 36, r: 8, t: 6, b: 30 },
      font: FONT,
      paper_bgcolor: "rgba(0,0,0,0)",
      showlegend: false,
      hovermode: "closest",
    };
    if (g.kind === "2d") {
      const n = g.resolution;
      const [[x0, x1], [y0, y1]] = g.domain;
      const xs = Array.from({ length: n }, (_, i) => x0 + ((x1 - x0) * i) / (n - 1));
      const ys = Array.from({ length: n }, (_, i) => y0 + ((y1 - y0) * i) / (n - 1));
      const z = Array.from({ length: n }, (_, r) => Array.from(values.subarray(r * n, r * n + n)));
      const mid = task === "binary" ? 0.5 : 0;
      const span = task === "binary" ? 0.5 : Math.max(Math.abs(range.min - mid), Math.abs(range.max - mid), 1e-9);
      const traces = [
        {
          type: "heatmap",
          x: xs,
          y: ys,
          z,
          zmin: mid - span,
          zmax: mid + span,
          colorscale: plotlyColorscale(),
          showscale: false,
          opacity: 0.85,
          hovertemplate: "x₁=%{x:.2f}<br>x₂=%{y:.2f}<br>ŷ=%{z:.3f}<extra></extra>",
        },
        ...this.pointTraces(mid, span),
      ];
      if (task === "binary") {
        traces.push({ type: "contour", x: xs, y: ys, z, showscale: false, hoverinfo: "skip",
          contours: { start: 0.5, end: 0.5, size: 1, coloring: "lines" }, line: { color: COLORS.ink, width: 1.5 } });
      }
      layout.xaxis = { range: [x0, x1], constrain: "domain", showgrid: false, zeroline: false };
      layout.yaxis = { range: [y0, y1], scaleanchor: "x", showgrid: false, zeroline: false };
      P.react(this.plot, traces, layout, CONFIG);
    } else {
      const n = values.length;
      const [[x0, x1]] = g.domain;
      const xs = g.output?.x ?? Array.from({ length: n }, (_, i) => x0 + ((x1 - x0) * i) / (n - 1));
      const traces = [];
      if (this.points) {
        for (const [part, colour, name] of [["train", COLORS.train, t("charts.train")], ["test", COLORS.test, t("charts.test")]]) {
          const pts = this.points[part];
          if (!pts) continue;
          traces.push({ type: "scatter", mode: "markers", name, x: pts.x.map((p) => p[0]), y: pts.y,
            marker: { color: colour, size: 6, opacity: 0.55 }, hovertemplate: "x=%{x:.3f}<br>y=%{y:.3f}<extra></extra>" });
        }
      }
      traces.push({ type: "scatter", mode: "lines", name: "ŷ", x: xs, y: Array.from(values, (v) => (Number.isFinite(v) ? v : null)),
        line: { color: COLORS.ink, width: 3 }, hovertemplate: "x=%{x:.3f}<br>ŷ=%{y:.3f}<extra></extra>" });
      layout.xaxis = { range: [x0, x1], gridcolor: "#eceef2", zeroline: false };
      layout.yaxis = { gridcolor: "#eceef2", zeroline: false };
      layout.showlegend = true;
      layout.legend = { orientation: "h", x: 0, y: 1.0, yanchor: "bottom" };
      P.react(this.plot, traces, layout, CONFIG);
    }
  }

  pointTraces(mid, span) {
    const pts = this.points;
    if (!pts) return [];
    const out = [];
    for (const [part, symbol, line] of [["train", "circle", "#ffffff"], ["test", "diamond", COLORS.ink]]) {
      const p = pts[part];
      if (!p?.x?.length) continue;
      out.push({
        type: "scatter",
        mode: "markers",
        name: part === "train" ? t("charts.train") : t("charts.test"),
        x: p.x.map((v) => v[0]),
        y: p.x.map((v) => v[1]),
        marker: {
          size: 7,
          symbol,
          color: p.y.map((v) => diverging((v - mid) / span)),
          line: { color: line, width: 1 },
        },
        hovertemplate: "x₁=%{x:.2f}<br>x₂=%{y:.2f}<extra></extra>",
      });
    }
    return out;
  }

  drawProbabilities() {
    const P = window.Plotly;
    const frame = this.frame;
    if (!P || !frame || !this.topology) return;
    const L = this.topology.layers.length;
    // Before this step's forward pass reaches the output, keep showing the last prediction.
    const fresh = frame.layers[L - 1]?.a;
    if (fresh) this.lastPrediction = fresh;
    const yhat = fresh ?? this.lastPrediction ?? [];
    const y = frame.y ?? [];
    const classes = yhat.map((_, k) => String(k));
    P.react(
      this.plot,
      [
        { type: "bar", x: classes, y: yhat, name: "ŷ", marker: { color: COLORS.forward } },
        { type: "bar", x: classes, y, name: "y", marker: { color: COLORS.test, opacity: 0.5 } },
      ],
      {
        margin: { l: 36, r: 8, t: 6, b: 30 },
        font: FONT,
        paper_bgcolor: "rgba(0,0,0,0)",
        barmode: "overlay",
        xaxis: { type: "category" },
        yaxis: { range: [0, 1], gridcolor: "#eceef2" },
        legend: { orientation: "h", x: 0, y: 1.0, yanchor: "bottom" },
      },
      CONFIG,
    );
  }

  drawThumbs() {
    const g = this.grid;
    if (!g?.neurons) return;
    const flat = g.neurons.flatMap((layer, l) => layer.map((img, j) => ({ l: l + 1, j, img })));
    if (this.thumbViews.length !== flat.length) {
      this.thumbs.replaceChildren();
      this.thumbViews = flat.map(({ l, j }) => {
        const figure = document.createElement("figure");
        figure.className = "thumb";
        const canvas = document.createElement("canvas");
        const side = g.kind === "2d" ? Math.round(Math.sqrt(gridValues(flat[0].img).length)) : 0;
        canvas.width = g.kind === "2d" ? side : SIZES.thumbPx;
        canvas.height = g.kind === "2d" ? side : Math.round(SIZES.thumbPx * 0.6);
        canvas.setAttribute("role", "img");
        canvas.setAttribute("aria-label", t("output.thumb_aria", { l, j: j + 1 }));
        const cap = document.createElement("figcaption");
        cap.textContent = `${l}·${j + 1}`;
        figure.append(canvas, cap);
        this.thumbs.appendChild(figure);
        return canvas;
      });
    }
    flat.forEach(({ img }, k) => drawThumb(this.thumbViews[k], img, g));
  }
}

function drawThumb(canvas, img, g) {
  const ctx = canvas.getContext("2d");
  const v = gridValues(img);
  const { min, max } = gridRange(v);
  const scale = Math.max(Math.abs(min), Math.abs(max), 1e-9);
  if (g.kind === "2d") {
    const n = canvas.width; // thumbnails have their own resolution
    const data = ctx.createImageData(n, n);
    for (let r = 0; r < n; r += 1) {
      for (let c = 0; c < n; c += 1) {
        const rgb = (diverging(v[r * n + c] / scale) ?? "rgb(230,230,230)").match(/\d+/g).map(Number);
        const o = ((n - 1 - r) * n + c) * 4; // rows go up from the lowest x₂
        data.data.set([...rgb, 255], o);
      }
    }
    ctx.putImageData(data, 0, 0);
  } else {
    const { width: w, height: h } = canvas;
    ctx.clearRect(0, 0, w, h);
    ctx.strokeStyle = COLORS.ink;
    ctx.lineWidth = 2;
    ctx.beginPath();
    for (let i = 0; i < v.length; i += 1) {
      const x = (i / (v.length - 1)) * w;
      const y = h / 2 - (v[i] / scale) * (h / 2 - 3);
      if (i) ctx.lineTo(x, y);
      else ctx.moveTo(x, y);
    }
    ctx.stroke();
  }
}

/**
 * The data points carried by `topology.data` (≤ 2 features) for plotting:
 * {train: {x: [[x1, x2]…], y: [label or value…]}, test: …}.
 */
export function dataPoints(data) {
  const part = (p) => (p ? { x: p.X ?? p.x ?? [], y: (p.y ?? []).map((v) => (Array.isArray(v) ? v[0] : v)) } : null);
  if (!data?.train) return null;
  return { train: part(data.train), test: part(data.test) };
}

/** A grid image's values: quantized bytes (2-D) or plain numbers (1-D curves). */
function gridValues(img) {
  if (img && typeof img.data === "string") return img.min === null ? new Float64Array(0) : dequantize(img);
  return Float64Array.from(img?.y ?? [], (v) => (v === null ? NaN : Math.max(-CAP, Math.min(CAP, v))));
}

const CAP = 1e30; // see charts.js: a diverging run's numbers are capped for Plotly

function gridRange(values) {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (Number.isFinite(v)) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
  }
  return Number.isFinite(min) ? { min, max } : { min: 0, max: 0 };
}
