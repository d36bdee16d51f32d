// Number formatting and colour mapping shared by the views (display only, no network math).
import { DIVERGING } from "./constants.js";

/** A number as the page prints it: 4 significant digits, "—" for a missing or non-finite value. */
export function fmt(x, digits = 4) {
  if (x === null || x === undefined || Number.isNaN(x)) return "—";
  if (!Number.isFinite(x)) return x > 0 ? "∞" : "−∞";
  if (x === 0) return "0";
  const ax = Math.abs(x);
  if (ax >= 1e5 || ax < 1e-4) {
    const [m, e] = x.toExponential(digits - 1).split("e");
    return `${trimZeros(m)}e${e.replace("+", "")}`.replaceAll("-", "−");
  }
  const s = x.toPrecision(digits);
  return trimZeros(s.includes("e") ? Number(s).toString() : s).replaceAll("-", "−");
}

function trimZeros(s) {
  return s.includes(".") ? s.replace(/\.?0+$/, "") : s;
}

/** The same number for a KaTeX formula (a real minus; exponents as ×10^{n}). */
export function tex(x, digits = 4) {
  const s = fmt(x, digits);
  if (s === "—") return "\\text{—}";
  const m = s.match(/^(−?[\d.]+)e(−?\d+)$/);
  const body = m ? `${m[1]}\\times10^{${m[2]}}` : s;
  return body.replaceAll("−", "-").replaceAll("∞", "\\infty");
}

/** A signed value in [-1, 1] (clamped) as an rgb() colour of the diverging palette. */
export function diverging(t) {
  if (t === null || t === undefined || !Number.isFinite(t)) return null;
  const v = Math.max(-1, Math.min(1, t));
  for (let i = 1; i < DIVERGING.length; i += 1) {
    const [x1, c1] = DIVERGING[i];
    if (v <= x1) {
      const [x0, c0] = DIVERGING[i - 1];
      const f = (v - x0) / (x1 - x0);
      const c = c0.map((c0k, k) => Math.round(c0k + f * (c1[k] - c0k)));
      return `rgb(${c[0]},${c[1]},${c[2]})`;
    }
  }
  return `rgb(${DIVERGING.at(-1)[1].join(",")})`;
}

/** Entries of the lookup tables below, over [-1, 1] (a step of 0.002: under a third of a
 * colour unit, so a table colour and `diverging()` look the same). */
export const PALETTE_STEPS = 1024;

let paletteRGB = null;
let paletteCSS = null;

/**
 * The diverging palette precomputed once: `PALETTE_STEPS` colours, 3 bytes each (r, g, b),
 * for the hot paths that colour many pixels or elements per frame. Entry k stands for
 * t = −1 + 2k / (PALETTE_STEPS − 1); `paletteIndex(t)` finds it.
 */
export function divergingTable() {
  if (!paletteRGB) {
    paletteRGB = new Uint8ClampedArray(PALETTE_STEPS * 3);
    for (let k = 0; k < PALETTE_STEPS; k += 1) {
      const rgb = diverging(-1 + (2 * k) / (PALETTE_STEPS - 1)).match(/\d+/g);
      paletteRGB.set(rgb.map(Number), 3 * k);
    }
  }
  return paletteRGB;
}

/** The table entry of a value in [-1, 1] (clamped); -1 for a missing or non-finite value. */
export function paletteIndex(t) {
  if (t === null || t === undefined || !Number.isFinite(t)) return -1;
  const v = t < -1 ? -1 : t > 1 ? 1 : t;
  return Math.round(((v + 1) / 2) * (PALETTE_STEPS - 1));
}

/** `diverging(t)` from the table: the same colour as a CSS string, without the arithmetic. */
export function divergingFast(t) {
  const k = paletteIndex(t);
  if (k < 0) return null;
  if (!paletteCSS) {
    const rgb = divergingTable();
    paletteCSS = Array.from({ length: PALETTE_STEPS }, (_, i) => `rgb(${rgb[3 * i]},${rgb[3 * i + 1]},${rgb[3 * i + 2]})`);
  }
  return paletteCSS[k];
}

/** Largest |value| of a (possibly nested, possibly null-holding) array; 0 when none. */
export function maxAbs(values) {
  let m = 0;
  if (!values) return m;
  for (const v of values) {
    if (Array.isArray(v)) m = Math.max(m, maxAbs(v));
    else if (v !== null && Number.isFinite(v)) m = Math.max(m, Math.abs(v));
  }
  return m;
}

/** Decode a quantized grid image: value = min + (max − min) · byte / 255. */
export function dequantize({ min, max, data }) {
  const bin = atob(data);
  const out = new Float64Array(bin.length);
  const scale = (max - min) / 255;
  for (let i = 0; i < bin.length; i += 1) out[i] = min + scale * bin.charCodeAt(i);
  return out;
}
