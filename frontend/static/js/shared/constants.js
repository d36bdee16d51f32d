// Every colour, size and timing of the page, in one place.

// Colour-blind-safe diverging palette for signed values: blue (negative) ↔ orange (positive).
// Stops from -1 to +1; the middle is a warm light grey so zero reads as "nothing".
export const DIVERGING = [
  [-1.0, [29, 78, 137]],
  [-0.5, [111, 163, 211]],
  [0.0, [240, 240, 236]],
  [0.5, [245, 178, 107]],
  [1.0, [194, 87, 12]],
];

export const COLORS = {
  ink: "#1d2430",
  muted: "#5b6472",
  faint: "#c9ced6",
  panel: "#ffffff",
  accent: "#3446b8", // the "you are here" colour of the timeline and the selection
  // Phase colours (pulses, timeline); deliberately not the blue/orange of signed values.
  forward: "#3446b8",
  backward: "#c2255c",
  loss: "#6b3fa0",
  update: "#237a35", // white on it 5.3:1, on its soft tint 4.7:1
  // The δ glow: a soft disc of the backward colour inside a dark dashed ring, so it differs
  // from the orange of "positive" in luminance and in shape for every kind of colour vision.
  deltaFill: "#c2255c",
  deltaRing: "#3b0627",
  pending: "#e6e8ec", // a value the current step has not computed yet
  edgeNeutral: "#d5d9df",
  train: "#2f6db5",
  test: "#c2570c",
};

// One colour per layer in the per-layer charts (Okabe–Ito, colour-blind safe), cycled.
export const LAYER_COLORS = [
  "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
];

export const SIZES = {
  maxDrawnNeurons: 16, // wider layers are drawn as a compact column of cells
  neuronRadiusMax: 26,
  neuronRadiusMin: 7,
  valueTextMinRadius: 14, // print the value inside a neuron at least this large
  valueTextMinPx: 7, // a value that fits its circle only in smaller type is not printed (its tooltip has it)
  haloReach: 16, // how far the δ ring reaches beyond a neuron's radius at full strength
  edgeWidthMin: 0.6,
  edgeWidthMax: 7,
  compactCellMax: 14,
  imageCellMax: 20, // pixel size of an input image (8×8 digits)
  thumbPx: 64,
};

/** The charts' type (Plotly's, in px) grows by this in presentation mode, like the page's (13 → 19 px). */
export const PRESENT_CHART_SCALE = 1.45;

/** The factor for the charts' type now: PRESENT_CHART_SCALE in presentation mode, else 1. */
export function chartScale() {
  return document.body.classList.contains("present") ? PRESENT_CHART_SCALE : 1;
}

export const TIMINGS = {
  phaseAnimationMs: 520, // one forward phase (and the loss) when stepping by hand
  backwardAnimationMs: 1100, // one backward phase: the error's trails need time to be seen
  updateFlashMs: 600,
  maxQueuedPhases: 12, // longer jumps skip the animation
  chartThrottleMs: 120, // at most ~8 chart redraws per second when not playing (rapid steps)
  chartPlayMs: 350, // while playing, the charts are redrawn ~3 times per second
  reconnectMinMs: 500,
  reconnectMaxMs: 8000,
  errorBannerMs: 9000,
  hashWriteMs: 250,
};

// The diagram's animation speed when stepping by hand: a factor on the durations above
// (0: no animation). The reader's choice is remembered in this browser.
export const ANIMATION_SPEEDS = { slow: 2.2, normal: 1, fast: 0.45, off: 0 };
export const ANIMATION_STORAGE_KEY = "bpviz.animation";

// Playback speeds offered (steps per second; null = as fast as the server can).
export const SPEEDS = [1, 5, 20, 100, 500, null];
export const DEFAULT_SPEED = 20;
export const PLAY_FPS = 30;

// The steps the selects offer for numeric settings (any value within the limits of
// /api/limits works; a value from a link that is not a step is added to its select).
export const LEARNING_RATES = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
export const BATCH_SIZES = [1, 2, 4, 8, 10, 16, 32, 64, 128, 256, 1024];
export const PENALTIES = [0, 0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1];
export const CLIP_NORMS = [0, 0.1, 0.5, 1, 5, 10, 100];
// Example counts; a data set with fewer examples than the limit also offers all of them.
export const SAMPLE_STEPS = [100, 200, 400, 800, 1600];

export const LANG_STORAGE_KEY = "bpviz.lang";
