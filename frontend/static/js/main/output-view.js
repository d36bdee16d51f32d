// What the network computes over the input space: the decision boundary (2-D data) as a
// heatmap under the data points (a regression's prediction surface), the fitted curve (1-D
// data), the class probabilities of the focused example (digits), and one thumbnail per
// hidden neuron (thumbs.js, from `grid`). Axes are named after the data's inputs and read
// in its own units (house price: m² and thousands); a legend says what symbols and colours
// mean; a ring marks the example the diagram shows, and a list of the batch's examples or a
// click on one of its points picks another (`onFocus(k)`, focus.js).
//
// 2-D: Plotly draws only what does not change while training — axes and data points, on
// a transparent plot — and a <canvas> under it shows the network's output: the grid's
// cells through a precomputed palette (putImageData), and for a binary task the ŷ = 0.5
// boundary traced on the same grid. A new grid costs one canvas paint, not a Plotly draw;
// the points' labels, which carry ŷ at each point, follow it (one restyle) while paused, or
// while playing when a label is shown (else once one is).
//
// Without a mouse (chart-keys.js): the plot is a tab stop; ← → move a cursor over the data
// points (the training set, then the test set, each from left to right; for 1-D data the
// fitted curve's points; digits: the bars of ŷ, each named by its class), Plotly's label
// shows the point and the live region says it.
import { chartScale, COLORS } from "../shared/constants.js";
import { divergingTable, fmt, paletteIndex } from "../shared/format.js";
import { t } from "../shared/i18n.js";
import { ChartKeys } from "../shared/chart-keys.js";
import { CANVAS_2D, contour, dataPoints, gridRange, gridValues } from "./grid.js";
import { ExamplePicker } from "./focus.js";
import { OutputMarks } from "./output-marks.js";
import { freshTexts, keyPoints, pointLabels, rehover } from "./output-keys.js";
import { barTraces, curveTraces, gridAt, nearestInBatch, scatterTraces, yhatText } from "./output-plots.js";
import { NeuronThumbs } from "./thumbs.js";
import { captionKey, inputLabel, originalTicks, scaleOf, targetLabel, toOriginal } from "./units.js";

const CONFIG = { displayModeBar: false, responsive: false, displaylogo: false };
const FONT = { family: "system-ui, 'Noto Sans CJK SC', 'Noto Sans', sans-serif", size: 12, color: COLORS.ink };
const MARGIN = { l: 48, r: 8, t: 6, b: 38 };
const HEATMAP_OPACITY = 0.85; // over the white plot, as the boundary has always looked
const SPAN_DRIFT = 0.1; // while playing, the colour scale of a non-binary output follows
// its range once it has moved by more than 10 % (exactly when paused)

export class OutputView {
  /** `onFocus(k)`: show example k of the batch (picked from the list or by a click on its point). */
  constructor({ plot, thumbs, caption, onFocus = () => {} }) {
    this.plot = plot;
    this.onFocus = onFocus;
    const host = document.createElement("div");
    caption.after(host);
    this.picker = new ExamplePicker(host, { onFocus });
    this.thumbs = new NeuronThumbs(thumbs);
    this.caption = caption;
    this.topology = null;
    this.grid = null;
    this.frame = null;
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
    this.marks = new OutputMarks(plot, this.gd);
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
    // A mouse reads the point under it; a finger by a tap (or a drag), and the reading stays.
    plot.addEventListener("pointermove", (event) => this.hover(event));
    plot.addEventListener("pointerdown", (event) => this.hover(event));
    plot.addEventListener("pointerleave", (event) => {
      if (event.pointerType === "mouse") this.tip.hidden = true;
    });
    this.textsFor = null; // the grid values the points' labels were made with
    this.hovered = null; // the points Plotly's label shows (a mouse, a tap or the keys)
    this.keys = new ChartKeys(plot, {
      title: () => t(captionKey(this.topology?.data)),
      graph: this.gd,
      points: () => keyPoints(this),
      prepare: () => freshTexts(this),
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
    this.thumbs.clear();
    this.canvas.hidden = true;
    this.tip.hidden = true;
    this.marks.setTopology(topology);
    this.picker.setTopology(topology);
    this.keys.hide();
    this.hovered = null;
    this.textsFor = null;
    this.relabel();
  }

  relabel() {
    if (!this.topology) return;
    this.caption.textContent = t(captionKey(this.topology.data));
    this.marks.relabel();
    this.picker.relabel();
    this.keys.relabel();
    this.staticKey = null; // the legend and hover texts are translated
    this.redraw();
  }

  /** An axis named after input `i` (or the target), with ticks in the data's units. */
  axis(i, range, extra = {}) {
    const data = this.topology.data;
    const title = i === "target" ? targetLabel(data) : inputLabel(data, i);
    const ticks = originalTicks(range[0], range[1], scaleOf(data, i));
    return { title: { text: title, standoff: 2, font: { size: Math.round(12 * chartScale()) } }, zeroline: false, ...ticks, ...extra };
  }

  /** Ring the example the diagram shows (after a frame, or once the axes are known). */
  markFocus() {
    this.marks.place(this.grid ? this.plotArea() : null, this.frame);
  }

  /** A click on a training point: focus it when it is in this step's batch, else say it is not. */
  listen() {
    if (this.listening) return;
    this.listening = true;
    // Zoom, pan, autoscale: the heatmap and the ring follow the axes.
    this.gd.on?.("plotly_relayout", () => {
      this.paintGrid();
      this.markFocus();
    });
    this.gd.on?.("plotly_hover", (event) => {
      this.pointHover = true;
      this.tip.hidden = true;
      this.hovered = (event?.points ?? []).map((p) => ({ curveNumber: p.curveNumber, pointNumber: p.pointNumber }));
      // A label made before the last grid (while playing): made again, and shown again.
      if (this.grid?.kind === "2d" && this.textsFor !== this.values) {
        setTimeout(() => this.pointHover && freshTexts(this), 0);
      }
    });
    this.gd.on?.("plotly_unhover", () => {
      this.pointHover = false;
      this.hovered = null;
    });
    this.gd.on?.("plotly_click", (event) => {
      const pt = event?.points?.[0];
      if (!pt || !this.frame) return;
      const k = nearestInBatch(this.topology.data, this.points, this.frame.batch, this.plotArea(), pt.x, pt.y);
      if (k >= 0 && !this.frame.playing) this.onFocus(k);
      else this.picker.say(t(this.frame.playing ? "focus.while_playing" : "focus.not_in_batch"));
    });
  }

  redraw() {
    if (this.grid) this.drawGrid();
    else if (this.frame && this.topology?.data.n_features > 2) this.drawProbabilities();
  }

  update(grid) {
    this.grid = grid;
    this.values = gridValues(grid.output);
    this.drawGrid();
    this.thumbs.update(grid);
  }

  /**
   * Frames matter only for the class probabilities of a data set without a grid (digits).
   * They are drawn with every frame the page shows, even while playing: the bars must be
   * those of the example the network diagram shows (~8 ms a frame, digits only).
   */
  updateFrame(frame) {
    this.frame = frame;
    this.picker.update(frame);
    if (!this.grid && this.topology?.data.n_features > 2) this.drawProbabilities();
    this.markFocus();
  }

  layout(extra) {
    const k = chartScale(); // larger type in presentation mode
    const margin = { ...MARGIN, l: Math.round(MARGIN.l * k), b: Math.round(MARGIN.b * k) };
    const font = { ...FONT, size: Math.round(FONT.size * k) };
    const layout = { margin, font, paper_bgcolor: "rgba(0,0,0,0)", showlegend: false, hovermode: "closest", ...extra };
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
      const key = JSON.stringify([g.domain, this.size, mid, span, chartScale()]);
      if (key !== this.staticKey) {
        this.staticKey = key;
        const [[x0, x1], [y0, y1]] = g.domain;
        P.react(
          this.gd,
          scatterTraces(this.topology.data, this.points, mid, span, pointLabels(this)),
          this.layout({
            plot_bgcolor: "rgba(0,0,0,0)", // the canvas underneath shows through
            xaxis: this.axis(0, [x0, x1], { range: [x0, x1], constrain: "domain", showgrid: false }),
            yaxis: this.axis(1, [y0, y1], { range: [y0, y1], scaleanchor: "x", showgrid: false }),
          }),
          CONFIG,
        ).then(() => {
          this.paintGrid();
          this.markFocus();
          rehover(this);
        });
        this.listen();
      }
      this.paintGrid();
      // The labels' ŷ: now when paused or when one is shown, else when one is (plotly_hover).
      const shown = this.keys.active || this.pointHover;
      if (shown || !this.frame?.playing) freshTexts(this);
      return;
    }
    this.canvas.hidden = true;
    this.staticKey = null;
    const n = values.length;
    const [[x0, x1]] = g.domain;
    const xs = g.output?.x ?? Array.from({ length: n }, (_, i) => x0 + ((x1 - x0) * i) / (n - 1));
    const { traces, yRange: yr } = curveTraces(this.topology.data, this.points, xs, values);
    P.react(
      this.gd,
      traces,
      this.layout({
        xaxis: this.axis(0, [x0, x1], { range: [x0, x1], gridcolor: "#eceef2" }),
        yaxis: this.axis("target", [yr.min, yr.max], { gridcolor: "#eceef2" }),
        showlegend: true,
        legend: { orientation: "h", x: 0, y: 1.0, yanchor: "bottom" },
      }),
      CONFIG,
    ).then(() => {
      this.markFocus();
      rehover(this);
    });
    this.listen();
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
    const v = gridAt(g, this.values, x, y);
    if (Number.isNaN(v)) {
      this.tip.hidden = true;
      return;
    }
    const data = this.topology.data;
    const yhat = yhatText(data, v);
    this.tip.textContent = `${inputLabel(data, 0)}=${fmt(toOriginal(x, scaleOf(data, 0)))}  ${inputLabel(data, 1)}=${fmt(toOriginal(y, scaleOf(data, 1)))}  ${yhat}`;
    this.tip.style.left = `${area.left + mx + 12}px`;
    this.tip.style.top = `${area.top + my + 12}px`;
    this.tip.hidden = false;
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
    P.react(
      this.gd,
      barTraces(this.topology.data, yhat, frame.y ?? []),
      this.layout({
        showlegend: true,
        barmode: "overlay",
        xaxis: { type: "category" },
        yaxis: { range: [0, 1], gridcolor: "#eceef2" },
        legend: { orientation: "h", x: 0, y: 1.0, yanchor: "bottom" },
      }),
      CONFIG,
    ).then(() => rehover(this));
  }
}
