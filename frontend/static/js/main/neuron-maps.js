// Pictures of what each hidden neuron computes over the input space, from the `grid` message
// (docs/protocol.md): a PNG per neuron, made once per grid and shared by the thumbnails under
// the output plot (thumbs.js) and the heat maps inside the diagram's neurons (DiagramMaps,
// for 2-D data, like TF Playground's). Nothing here runs per frame: only when a grid arrives.
import { COLORS, SIZES } from "../shared/constants.js";
import { divergingTable, paletteIndex } from "../shared/format.js";
import { el, setAttr } from "../shared/svg.js";
import { CANVAS_2D, gridRange, gridValues } from "./grid.js";
import { animationPrefs } from "./network-animation.js";

const MISSING = [230, 230, 230]; // a pixel without a value
const MAP_PAINT_MS = 500; // while grids stream in (playing), the maps change at most twice a second
const MAP_MIN_RADIUS = 10;
// Until the reader chooses, a diagram with more maps than this starts without them: each
// map costs the page some repaint on every frame (bench/browser.py (b), 48 maps: −3 fps).
const AUTO_MAPS = 32; // a smaller neuron keeps its plain colour: its picture would be a smudge

const pictures = new WeakMap(); // grid → its pictures (data URLs)
let scratch = null;

/** The scratch canvas at `w`×`h` (one for every picture: pixels in, a PNG out). */
function canvasOf(w, h) {
  if (!scratch) scratch = document.createElement("canvas");
  if (scratch.width !== w || scratch.height !== h) {
    scratch.width = w;
    scratch.height = h;
  }
  return scratch;
}

/**
 * A grid image as a picture on `canvas`: a 2-D map (one pixel per grid cell, rows going up
 * from the lowest x₂) through the diverging palette, or a 1-D curve. Values are coloured
 * around `mid` over ±`span` (default: around 0 over the image's own largest |value|).
 */
function drawPicture(canvas, img, kind, { mid = 0, span = null } = {}) {
  const ctx = canvas.getContext("2d", CANVAS_2D);
  const v = gridValues(img);
  const { min, max } = gridRange(v);
  const scale = span ?? Math.max(Math.abs(min - mid), Math.abs(max - mid), 1e-9);
  if (kind === "2d") {
    const n = canvas.width;
    if (canvas.bpImage?.width !== n) canvas.bpImage = ctx.createImageData(n, n);
    const data = canvas.bpImage.data;
    const lut = divergingTable();
    for (let r = 0; r < n; r += 1) {
      for (let c = 0; c < n; c += 1) {
        const k = 3 * paletteIndex((v[r * n + c] - mid) / scale);
        const o = ((n - 1 - r) * n + c) * 4;
        data[o] = k < 0 ? MISSING[0] : lut[k];
        data[o + 1] = k < 0 ? MISSING[1] : lut[k + 1];
        data[o + 2] = k < 0 ? MISSING[2] : lut[k + 2];
        data[o + 3] = 255;
      }
    }
    ctx.putImageData(canvas.bpImage, 0, 0);
    return;
  }
  const { width: w, height: h } = canvas;
  ctx.clearRect(0, 0, w, h);
  ctx.strokeStyle = COLORS.ink;
  ctx.lineWidth = 2;
  ctx.beginPath();
  for (let i = 0; i < v.length; i += 1) {
    const x = (i / (v.length - 1)) * w;
    const y = h / 2 - ((v[i] - mid) / scale) * (h / 2 - 3);
    if (i) ctx.lineTo(x, y);
    else ctx.moveTo(x, y);
  }
  ctx.stroke();
}

/** The size of a picture of `img`: one pixel per cell of a map, a thumbnail's for a curve. */
function pictureSize(grid, img) {
  if (grid.kind !== "2d") return { w: SIZES.thumbPx, h: Math.round(SIZES.thumbPx * 0.6) };
  const n = Math.round(Math.sqrt(gridValues(img).length)); // the neurons' maps are coarser than the output's
  return { w: n, h: n };
}

/**
 * The grid's hidden-neuron pictures as PNG data URLs, `[layer-1][neuron]` like
 * `grid.neurons` (made at the first call for a grid, then the same strings).
 */
export function neuronPictures(grid) {
  if (!grid?.neurons) return [];
  let made = pictures.get(grid);
  if (!made) {
    const { w, h } = pictureSize(grid, grid.neurons.flat().find((img) => img?.min !== null));
    const canvas = canvasOf(Math.max(w, 1), Math.max(h, 1));
    made = grid.neurons.map((layer) =>
      layer.map((img) => {
        drawPicture(canvas, img, grid.kind);
        return canvas.toDataURL();
      }),
    );
    pictures.set(grid, made);
  }
  return made;
}

/** The output's map as a data URL (one output, 2-D): ŷ around 0.5 for a classifier, else 0. */
function outputPicture(grid, task) {
  if (grid?.kind !== "2d" || !grid.output) return null;
  const { w, h } = pictureSize(grid, grid.output);
  if (w < 2) return null;
  const canvas = canvasOf(w, h);
  drawPicture(canvas, grid.output, "2d", task === "binary" ? { mid: 0.5, span: 0.5 } : {});
  return canvas.toDataURL();
}

/** Whether a topology's data has the two inputs the grid's maps are drawn over. */
export function hasPlane(topology) {
  const data = topology?.data;
  if (!data || Array.isArray(data.input_shape)) return false;
  return (data.n_inputs ?? data.n_features) === 2;
}

/**
 * The heat maps inside the diagram's neurons: an SVG <image> over each hidden neuron (and a
 * single output neuron) of a circle column large enough, a square inside the body
 * so the body's ring keeps the neuron's value colour (and the focus, hover and δ rings stay
 * around it). build() makes the elements once per diagram build; setGrid() only changes
 * their pictures; show() hides or shows them all.
 */
export class DiagramMaps {
  /** `container`: the diagram's card, with the "heat maps" box under it (index.html). */
  constructor(svg, container) {
    this.svg = svg;
    this.grid = null;
    this.topology = null;
    this.views = []; // {image, layer, neuron}
    this.box = container.querySelector("#show-maps-box");
    this.input = container.querySelector("#show-maps");
    this.input?.addEventListener("change", () => this.show(this.input.checked));
  }

  /** Whether the maps are shown: the reader's choice, else on for a diagram of few maps. */
  get on() {
    return animationPrefs.showMaps ?? this.views.length <= AUTO_MAPS;
  }

  /** A new network: no pictures until its first grid; the box only for 2-D data. */
  setTopology(topology) {
    this.topology = topology;
    this.grid = null;
    if (this.box) this.box.hidden = !hasPlane(topology);
  }

  /** After buildDiagram (the SVG emptied and refilled): an <image> in each neuron that can show one. */
  build(built) {
    this.views = [];
    const topo = this.topology;
    if (!topo || !hasPlane(topo)) {
      this.mark();
      return;
    }
    const L = topo.layers.length;
    built.columns.forEach((cv, c) => {
      const col = cv.col;
      const single = c === L && col.n === 1;
      if (c === 0 || (c === L && !single) || col.kind !== "circles" || col.r < MAP_MIN_RADIUS) return;
      // A square inside the disc, the body's colour around it: not clipped round, as an SVG
      // clip-path (or a round picture) would cost the page every map's repaint on every
      // frame (bench/browser.py (b): about −5 frames/s).
      const inner = (col.r - Math.max(2, col.r * 0.12)) / Math.SQRT2;
      cv.neurons.forEach((n, j) => {
        const image = el(
          "image",
          {
            class: "neuron-map",
            x: (col.x - inner).toFixed(1),
            y: (col.ys[j] - inner).toFixed(1),
            width: (2 * inner).toFixed(1),
            height: (2 * inner).toFixed(1),
            preserveAspectRatio: "none",
            "aria-hidden": "true",
            display: "none",
          },
          null,
        );
        n.body.after(image);
        this.views.push({ image, layer: c, neuron: j });
      });
    });
    this.paint();
  }

  /** A new grid: every picture changes (once per grid, never per frame; at most every
   * MAP_PAINT_MS while grids stream in, the last one always shown). */
  setGrid(grid) {
    this.grid = grid;
    const wait = (this.painted ?? -Infinity) + MAP_PAINT_MS - performance.now();
    if (wait <= 0) this.paint();
    else this.timer ??= setTimeout(() => this.paint(), wait);
  }

  /** Show or hide the maps (the reader's checkbox). */
  show(on) {
    animationPrefs.set({ showMaps: on });
    this.paint();
  }

  paint() {
    clearTimeout(this.timer);
    this.timer = null;
    this.painted = performance.now();
    if (this.input) this.input.checked = this.on;
    const g = this.grid;
    const L = this.topology?.layers.length ?? 0;
    const usable = this.on && g?.kind === "2d" && Array.isArray(g.neurons) && this.fits(g);
    const hidden = usable ? neuronPictures(g) : [];
    const out = usable && this.views.some((v) => v.layer === L) ? outputPicture(g, this.topology.data.task) : null;
    let shown = 0;
    for (const { image, layer, neuron } of this.views) {
      const src = layer === L ? out : hidden[layer - 1]?.[neuron];
      if (src) {
        setAttr(image, "href", src);
        shown += 1;
      }
      setAttr(image, "display", src ? "inline" : "none");
    }
    this.mark(shown);
  }

  /** Whether a grid belongs to this network (a grid of the one before may still arrive). */
  fits(grid) {
    const layers = this.topology.layers;
    return grid.neurons.length === layers.length - 1 && grid.neurons.every((row, l) => row.length === layers[l].units);
  }

  /** The SVG says how many maps it shows (the value read-outs sit on them in another style). */
  mark(shown = 0) {
    this.svg.classList.toggle("with-maps", shown > 0);
    this.svg.dataset.maps = String(shown);
  }
}
