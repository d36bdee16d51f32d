// The `grid` message on the page (docs/protocol.md): its images decoded, their range, the
// ŷ = 0.5 line traced through them, and the data points a topology carries. No DOM.
import { dequantize } from "../shared/format.js";

const CAP = 1e30; // see charts.js: a diverging run's numbers are capped for Plotly

// The scratch canvases are read back (pixels in, a PNG out): a software canvas
// (willReadFrequently) spares each read a trip through the GPU.
export const CANVAS_2D = { willReadFrequently: true };

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
export function gridValues(img) {
  if (img && typeof img.data === "string") return img.min === null ? new Float64Array(0) : dequantize(img);
  return Float64Array.from(img?.y ?? [], (v) => (v === null ? NaN : Math.max(-CAP, Math.min(CAP, v))));
}


export function gridRange(values) {
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
