// What the network computes over the input space: the decision boundary (2-D data) as a
// heatmap under the data points, the fitted curve (1-D data), the class probabilities of
// the focused example (digits), and one thumbnail per hidden neuron (from `grid`).
//
// 2-D: Plotly draws only what does not change while training — axes and data points, on
// a transparent plot — and a <canvas> under it shows the network's output: the grid's
// cells through a precomputed palette (putImageData), and for a binary task the ŷ = 0.5
// boundary traced on the same grid. A new grid costs one canvas paint, not a Plotly draw.
import { COLORS, SIZES } from "./constants.js";
import { dequantize, diverging, divergingTable, paletteIndex } from "./format.js";
import { t } from "./i18n.js";

const CONFIG = { displayModeBar: false, responsive: false, displaylogo: false };
const FONT = { family: "system-ui, 'Noto Sans CJK SC', 'Noto Sans', sans-serif", size: 12, color: COLORS.ink };
const MARGIN = { l: 36, r: 8, t: 6, b: 30 };
const HEATMAP_OPACITY = 0.85; // over the white plot, as the boundary has always looked
const MISSING = [230, 230, 230]; // a thumbnail pixel without a value
const SPAN_DRIFT = 0.1; // while playing, the colour scale of a non-binary output follows
// its range once it has moved by more than 10 % (exactly when paused)

export class OutputView {
  constructor({ plot, thumbs, caption }) {
    this.plot = plot;
    this.thumbs = thumbs;
    this.caption = caption;
    this.topology = null;
    this.grid = null;
    this.frame = null;
    this.thumbViews = [];
    // The heatmap canvas under the Plotly graph, and a read-out of ŷ under the pointer.
    this.canvas = document.createElement("canvas");
    this.canvas.className = "output-canvas";
    this.canvas.hidden = true;
    this.canvas.setAttribute("aria-hidden", "true");
    this.gd = document.createElement("div");
    this.gd.className = "output-graph";
    this.tip = document.createElement("div");
    this.tip.className = "output-tip";
    this.tip.hidden = true;
    plot.replaceChildren(this.canvas, this.gd, this.tip);
    this.size = null;
    this.staticKey = null;
    this.area = null;
    this.scale = null; // {mid, span} of the colours shown
    if (typeof ResizeObserver !== "undefined") {
      new ResizeObserver(([entry]) => {
        const w = Math.round(entry.contentRect.width);
        const h = Math.round(entry.contentRect.height);
        if (w < 10 || h < 10 || (this.size && this.size.w === w && this.size.h === h)) return;
        this.size = { w, h };
        this.redraw();
      }).observe(plot);
    }
    plot.addEventListener("mousemove", (event) => this.hover(event));
    plot.addEventListener("mouseleave", () => {
      this.tip.hidden = true;
    });
  }

  setTopology(topology) {
    this.topology = topology;
    this.grid = null;
    this.values = null;
    this.scale = null;
    this.staticKey = null;
    this.lastPrediction = null;
    this.points = dataPoints(topology.data);
    this.thumbs.replaceChildren();
    this.thumbViews = [];
    this.canvas.hidden = true;
    this.tip.hidden = true;
    this.relabel();
  }

  relabel() {
    if (!this.topology) return;
    const key = { 2: "output.boundary", 1: "output.curve" }[this.topology.data.n_features] ?? "output.probabilities";
    this.caption.textContent = t(key);
    this.staticKey = null; // the legend and hover texts are translated
    this.redraw();
  }

  redraw() {
    if (this.grid) this.drawGrid();
    else if (this.frame && this.topology?.data.n_features > 2) this.drawProbabilities();
  }

  update(grid) {
    this.grid = grid;
    this.values = gridValues(grid.output);
    this.drawGrid();
    this.drawThumbs();
  }

  /**
   * Frames matter only for the class probabilities of a data set without a grid (digits).
   * They are drawn with every frame the page shows, even while playing: the bars must be
   * those of the example the network diagram shows (~8 ms a frame, digits only).
   */
  updateFrame(frame) {
    this.frame = frame;
    if (!this.grid && this.topology?.data.n_features > 2) this.drawProbabilities();
  }

  layout(extra) {
    const layout = { margin: MARGIN, font: FONT, paper_bgcolor: "rgba(0,0,0,0)", showlegend: false, hovermode: "closest", ...extra };
    if (this.size) Object.assign(layout, { width: this.size.w, height: this.size.h, autosize: false });
    return layout;
  }

  drawGrid() {
    const g = this.grid;
    const P = window.Plotly;
    if (!g || !P) return;
    const values = this.values;
    if (g.kind === "2d") {
      this.updateScale(values);
      const { mid, span } = this.scale;
      const key = JSON.stringify([g.domain, this.size, mid, span]);
      if (key !== this.staticKey) {
        this.staticKey = key;
        const [[x0, x1], [y0, y1]] = g.domain;
        P.react(
          this.gd,
          this.pointTraces(mid, span),
          this.layout({
            plot_bgcolor: "rgba(0,0,0,0)", // the canvas underneath shows through
            xaxis: { range: [x0, x1], constrain: "domain", showgrid: false, zeroline: false },
            yaxis: { range: [y0, y1], scaleanchor: "x", showgrid: false, zeroline: false },
          }),
          CONFIG,
        ).then(() => this.paintGrid());
        if (!this.listening) {
          // Zoom, pan, autoscale: the heatmap follows the axes.
          this.listening = true;
          this.gd.on?.("plotly_relayout", () => this.paintGrid());
          this.gd.on?.("plotly_hover", () => {
            this.pointHover = true;
            this.tip.hidden = true;
          });
          this.gd.on?.("plotly_unhover", () => {
            this.pointHover = false;
          });
        }
      }
      this.paintGrid();
      return;
    }
    this.canvas.hidden = true;
    this.staticKey = null;
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
    P.react(
      this.gd,
      traces,
      this.layout({
        xaxis: { range: [x0, x1], gridcolor: "#eceef2", zeroline: false },
        yaxis: { gridcolor: "#eceef2", zeroline: false },
        showlegend: true,
        legend: { orientation: "h", x: 0, y: 1.0, yanchor: "bottom" },
      }),
      CONFIG,
    );
  }

  /** The colour scale: ŷ ∈ [0, 1] around 0.5 (binary), else symmetric around 0 over the range. */
  updateScale(values) {
    const task = this.topology.data.task;
    if (task === "binary") {
      this.scale = { mid: 0.5, span: 0.5 };
      return;
    }
    const range = gridRange(values);
    const span = Math.max(Math.abs(range.min), Math.abs(range.max), 1e-9);
    const old = this.scale?.span;
    const playing = Boolean(this.frame?.playing);
    if (!old || !playing || Math.abs(span - old) > SPAN_DRIFT * old) this.scale = { mid: 0, span };
  }

  /** Where the plot area is (CSS px inside the container) and which data range it shows. */
  plotArea() {
    const full = this.gd._fullLayout;
    const xa = full?.xaxis;
    const ya = full?.yaxis;
    if (!xa || !ya || !(xa._length > 0) || !(ya._length > 0)) return null;
    return {
      left: xa._offset,
      top: ya._offset,
      width: xa._length,
      height: ya._length,
      x: xa.range.map(Number),
      y: ya.range.map(Number),
    };
  }

  paintGrid() {
    const g = this.grid;
    const area = g?.kind === "2d" ? this.plotArea() : null;
    this.area = area;
    if (!area) {
      this.canvas.hidden = true;
      return;
    }
    const canvas = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    const W = Math.round(area.width * dpr);
    const H = Math.round(area.height * dpr);
    if (canvas.width !== W || canvas.height !== H) {
      canvas.width = W;
      canvas.height = H;
    }
    const style = `left:${area.left}px;top:${area.top}px;width:${area.width}px;height:${area.height}px`;
    if (canvas.bpStyle !== style) {
      canvas.bpStyle = style;
      canvas.style.cssText = style;
    }
    canvas.hidden = false;
    const ctx = canvas.getContext("2d", CANVAS_2D);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, W, H);
    const values = this.values;
    const n = g.resolution;
    if (!values || values.length !== n * n || n < 2) return;
    const { mid, span } = this.scale;
    const cells = this.cellImage(values, n, mid, span);
    // Data → canvas pixels; the cells are centred on the grid's points (as a heatmap is).
    const [[x0, x1], [y0, y1]] = g.domain;
    const px = (x) => ((x - area.x[0]) / (area.x[1] - area.x[0])) * W;
    const py = (y) => ((area.y[1] - y) / (area.y[1] - area.y[0])) * H;
    const dx = (x1 - x0) / (n - 1);
    const dy = (y1 - y0) / (n - 1);
    ctx.imageSmoothingEnabled = false;
    ctx.globalAlpha = HEATMAP_OPACITY;
    ctx.drawImage(cells, px(x0 - dx / 2), py(y1 + dy / 2), px(x1 + dx / 2) - px(x0 - dx / 2), py(y0 - dy / 2) - py(y1 + dy / 2));
    ctx.globalAlpha = 1;
    if (this.topology.data.task === "binary") {
      ctx.strokeStyle = COLORS.ink;
      ctx.lineWidth = 1.5 * dpr;
      ctx.lineJoin = "round";
      ctx.beginPath();
      contour(values, n, 0.5, (a, b) => {
        ctx.moveTo(px(x0 + a[0] * dx), py(y0 + a[1] * dy));
        ctx.lineTo(px(x0 + b[0] * dx), py(y0 + b[1] * dy));
      });
      ctx.stroke();
    }
  }

  /** One pixel per grid cell, through the palette (a reused n×n canvas). */
  cellImage(values, n, mid, span) {
    if (!this.cells || this.cells.width !== n) {
      this.cells = document.createElement("canvas");
      this.cells.width = n;
      this.cells.height = n;
      this.cellData = this.cells.getContext("2d", CANVAS_2D).createImageData(n, n);
    }
    const lut = divergingTable();
    const px = this.cellData.data;
    for (let r = 0; r < n; r += 1) {
      const row = (n - 1 - r) * n; // rows go up from the lowest x₂
      for (let c = 0; c < n; c += 1) {
        const k = 3 * paletteIndex((values[r * n + c] - mid) / span);
        const o = (row + c) * 4;
        if (k < 0) {
          px[o + 3] = 0;
          continue;
        }
        px[o] = lut[k];
        px[o + 1] = lut[k + 1];
        px[o + 2] = lut[k + 2];
        px[o + 3] = 255;
      }
    }
    this.cells.getContext("2d", CANVAS_2D).putImageData(this.cellData, 0, 0);
    return this.cells;
  }

  /** ŷ under the pointer (the heatmap's read-out; Plotly's own label covers the points). */
  hover(event) {
    const g = this.grid;
    const area = this.area;
    if (!g || g.kind !== "2d" || !area || this.pointHover || !this.values) {
      this.tip.hidden = true;
      return;
    }
    const box = this.plot.getBoundingClientRect();
    const mx = event.clientX - box.left - area.left;
    const my = event.clientY - box.top - area.top;
    if (mx < 0 || my < 0 || mx > area.width || my > area.height) {
      this.tip.hidden = true;
      return;
    }
    const x = area.x[0] + (mx / area.width) * (area.x[1] - area.x[0]);
    const y = area.y[1] - (my / area.height) * (area.y[1] - area.y[0]);
    const n = g.resolution;
    const [[x0, x1], [y0, y1]] = g.domain;
    const c = Math.round(((x - x0) / (x1 - x0)) * (n - 1));
    const r = Math.round(((y - y0) / (y1 - y0)) * (n - 1));
    if (c < 0 || r < 0 || c >= n || r >= n) {
      this.tip.hidden = true;
      return;
    }
    this.tip.textContent = `x₁=${x.toFixed(2)}  x₂=${y.toFixed(2)}  ŷ=${this.values[r * n + c].toFixed(3)}`;
    this.tip.style.left = `${area.left + mx + 12}px`;
    this.tip.style.top = `${area.top + my + 12}px`;
    this.tip.hidden = false;
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
    this.canvas.hidden = true;
    const L = this.topology.layers.length;
    // Before this step's forward pass reaches the output, keep showing the last prediction.
    const fresh = frame.layers[L - 1]?.a;
    if (fresh) this.lastPrediction = fresh;
    const yhat = fresh ?? this.lastPrediction ?? [];
    const y = frame.y ?? [];
    const classes = yhat.map((_, k) => String(k));
    P.react(
      this.gd,
      [
        { type: "bar", x: classes, y: yhat, name: "ŷ", marker: { color: COLORS.forward } },
        { type: "bar", x: classes, y, name: "y", marker: { color: COLORS.test, opacity: 0.5 } },
      ],
      this.layout({
        showlegend: true,
        barmode: "overlay",
        xaxis: { type: "category" },
        yaxis: { range: [0, 1], gridcolor: "#eceef2" },
        legend: { orientation: "h", x: 0, y: 1.0, yanchor: "bottom" },
      }),
      CONFIG,
    );
  }

  /**
   * One picture per hidden neuron. Each is drawn on a shared scratch canvas and shown as
   * an <img>: a <canvas> in the page is a compositor layer of its own, and four dozen
   * layers would cost every frame of the page. Out of view, they wait until shown.
   */
  drawThumbs() {
    const g = this.grid;
    if (!g?.neurons) return;
    if (!this.thumbWatch && typeof IntersectionObserver !== "undefined") {
      this.thumbWatch = new IntersectionObserver(([entry]) => {
        this.thumbsVisible = entry.isIntersecting;
        if (this.thumbsVisible && this.thumbsStale) this.drawThumbs();
      });
      this.thumbWatch.observe(this.thumbs);
    }
    const flat = g.neurons.flatMap((layer, l) => layer.map((img, j) => ({ l: l + 1, j, img })));
    if (this.thumbViews.length !== flat.length) {
      this.thumbs.replaceChildren();
      this.thumbViews = flat.map(({ l, j }) => {
        const figure = document.createElement("figure");
        figure.className = "thumb";
        const picture = document.createElement("img");
        picture.alt = t("output.thumb_aria", { l, j: j + 1 });
        const cap = document.createElement("figcaption");
        cap.textContent = `${l}·${j + 1}`;
        figure.append(picture, cap);
        this.thumbs.appendChild(figure);
        return picture;
      });
    }
    if (this.thumbsVisible === false) {
      this.thumbsStale = true;
      return;
    }
    this.thumbsStale = false;
    const side = g.kind === "2d" ? Math.round(Math.sqrt(gridValues(flat[0]?.img).length)) : 0;
    const w = g.kind === "2d" ? side : SIZES.thumbPx;
    const h = g.kind === "2d" ? side : Math.round(SIZES.thumbPx * 0.6);
    if (!this.scratch) this.scratch = document.createElement("canvas");
    if (this.scratch.width !== w || this.scratch.height !== h) {
      this.scratch.width = w;
      this.scratch.height = h;
    }
    flat.forEach(({ img }, k) => {
      drawThumb(this.scratch, img, g);
      this.thumbViews[k].src = this.scratch.toDataURL();
    });
  }
}

// The scratch canvases are read back (pixels in, a PNG out): a software canvas
// (willReadFrequently) spares each read a trip through the GPU.
const CANVAS_2D = { willReadFrequently: true };

function drawThumb(canvas, img, g) {
  const ctx = canvas.getContext("2d", CANVAS_2D);
  const v = gridValues(img);
  const { min, max } = gridRange(v);
  const scale = Math.max(Math.abs(min), Math.abs(max), 1e-9);
  if (g.kind === "2d") {
    const n = canvas.width; // thumbnails have their own resolution
    if (canvas.bpImage?.width !== n) canvas.bpImage = ctx.createImageData(n, n);
    const data = canvas.bpImage.data;
    const lut = divergingTable();
    for (let r = 0; r < n; r += 1) {
      for (let c = 0; c < n; c += 1) {
        const k = 3 * paletteIndex(v[r * n + c] / scale);
        const o = ((n - 1 - r) * n + c) * 4; // rows go up from the lowest x₂
        data[o] = k < 0 ? MISSING[0] : lut[k];
        data[o + 1] = k < 0 ? MISSING[1] : lut[k + 1];
        data[o + 2] = k < 0 ? MISSING[2] : lut[k + 2];
        data[o + 3] = 255;
      }
    }
    ctx.putImageData(canvas.bpImage, 0, 0);
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
 * Marching squares: the line where a grid of n×n values (row-major, rows going up) crosses
 * `level`, as segments between points in grid units ([column, row], fractional), each
 * handed to `segment(a, b)`. A saddle cell is split by the value at its centre.
 */
export function contour(values, n, level, segment) {
  for (let r = 0; r < n - 1; r += 1) {
    for (let c = 0; c < n - 1; c += 1) {
      const v00 = values[r * n + c]; // bottom left
      const v10 = values[r * n + c + 1]; // bottom right
      const v11 = values[(r + 1) * n + c + 1]; // top right
      const v01 = values[(r + 1) * n + c]; // top left
      const idx = (v00 > level ? 1 : 0) | (v10 > level ? 2 : 0) | (v11 > level ? 4 : 0) | (v01 > level ? 8 : 0);
      if (idx === 0 || idx === 15) continue;
      const at = (a, b) => (a === b ? 0.5 : (level - a) / (b - a));
      const bottom = () => [c + at(v00, v10), r];
      const right = () => [c + 1, r + at(v10, v11)];
      const top = () => [c + at(v01, v11), r + 1];
      const left = () => [c, r + at(v00, v01)];
      switch (idx) {
        case 1: case 14: segment(left(), bottom()); break;
        case 2: case 13: segment(bottom(), right()); break;
        case 3: case 12: segment(left(), right()); break;
        case 4: case 11: segment(right(), top()); break;
        case 6: case 9: segment(bottom(), top()); break;
        case 7: case 8: segment(left(), top()); break;
        case 5: case 10: {
          const centre = (v00 + v10 + v11 + v01) / 4 > level;
          // 5: bottom-left and top-right above the level; 10: the other two.
          if ((idx === 5) === centre) {
            segment(left(), top());
            segment(bottom(), right());
          } else {
            segment(left(), bottom());
            segment(right(), top());
          }
          break;
        }
        default:
      }
    }
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
