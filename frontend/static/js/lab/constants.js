// The lab's own colours, sizes and timings (the page-wide ones are in shared/constants.js).
import { COLORS } from "../shared/constants.js";

// Left and right side: two hues that differ for every kind of colour vision (Okabe–Ito
// blue and vermillion), used for the side labels and their loss curves.
export const SIDE_COLORS = { a: "#0072B2", b: "#B84F00" };

// Layers from the input side (light) to the output (dark): a viridis ramp, so "earlier
// layer" reads as "paler line" without a legend lookup. Sampled, not interpolated.
const VIRIDIS = ["#fde725", "#b5de2b", "#6ece58", "#35b779", "#1f9e89", "#26828e", "#31688e", "#3e4989", "#482878", "#440154"];

/** The colour of layer l (1-based) of L layers. */
export function layerColor(l, L) {
  if (L <= 1) return VIRIDIS[VIRIDIS.length - 1];
  // Skip the palest yellow: it vanishes on white.
  const pos = 1 + ((l - 1) / (L - 1)) * (VIRIDIS.length - 2);
  return VIRIDIS[Math.round(pos)];
}

/** The layer colours as a CSS gradient (the legend of the per-layer lines). */
export function layerRamp() {
  return `linear-gradient(90deg, ${VIRIDIS.slice(1).join(", ")})`;
}

// Gradient size on the diagram: |∂L/∂W| on a log scale spanning this many decades below
// the largest value shown on either side (both sides share the scale).
export const GRAD_DECADES = 6;
export const GRAD_COLOR = COLORS.backward; // the backward-pass colour of the main page
export const GRAD_FAINT = [236, 238, 242]; // an edge with no gradient to speak of

export const LAB_SIZES = {
  edgeWidthMin: 0.4,
  edgeWidthMax: 4.5,
};

export const LAB_TIMINGS = {
  tickMs: 100, // one lock-step tick while playing
  minGapMs: 5,
  replyTimeoutMs: 15000,
  chartThrottleMs: 150,
  hashWriteMs: 150,
};

// Playback speeds offered (steps per second, both sides).
export const LAB_SPEEDS = [5, 20, 50, 100, 200, 500];
export const LAB_DEFAULT_SPEED = 100;
