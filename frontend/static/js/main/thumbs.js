// One thumbnail per hidden neuron: what each neuron computes over the input space (a 2-D
// map or a 1-D curve), from the `grid` message.
import { COLORS, SIZES } from "../shared/constants.js";
import { divergingTable, paletteIndex } from "../shared/format.js";
import { t } from "../shared/i18n.js";
import { CANVAS_2D, gridRange, gridValues } from "./grid.js";

const MISSING = [230, 230, 230]; // a thumbnail pixel without a value

export class NeuronThumbs {
  constructor(thumbs) {
    this.thumbs = thumbs;
    this.grid = null;
    this.thumbViews = [];
  }

  /** A new network: no thumbnails until its first grid. */
  clear() {
    this.grid = null;
    this.thumbs.replaceChildren();
    this.thumbViews = [];
  }

  update(grid) {
    this.grid = grid;
    this.drawThumbs();
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
