// The phase animations of the network diagram, driven by requestAnimationFrame:
// forward — pulses travel left → right into the layer that lights up;
// loss — pulses run from the outputs into the loss box;
// backward — the error flows right → left: thick pulses draw trails along the edges (from
//   the loss box into the outputs, then from each layer into the one before) and the δ glow
//   builds up on each neuron as its trails arrive; ∂L/∂W recolours the edges after it;
// update — the edges flash as the new weights replace the gradients.
// The reader picks the speed (slow / normal / fast / off) under the diagram; it is remembered.
import { ANIMATION_SPEEDS, ANIMATION_STORAGE_KEY, COLORS, TIMINGS } from "../shared/constants.js";
import { maxAbs } from "../shared/format.js";
import { drawsEdges, neuronCenter } from "../shared/network-layout.js";
import { SVG_NS } from "../shared/svg.js";

const MAX_PULSES = 400;

function loadPrefs() {
  try {
    const p = JSON.parse(localStorage.getItem(ANIMATION_STORAGE_KEY) ?? "{}");
    return { speed: p.speed in ANIMATION_SPEEDS ? p.speed : "normal", showDelta: p.showDelta === true, showMaps: typeof p.showMaps === "boolean" ? p.showMaps : null };
  } catch {
    return { speed: "normal", showDelta: false, showMaps: null };
  }
}

/** The reader's animation settings: `speed` (a key of ANIMATION_SPEEDS), `showDelta` and `showMaps` (2-D data's heat maps in the neurons: true, false, or null until the reader chooses). */
export const animationPrefs = {
  ...loadPrefs(),
  /** The factor on the phase durations (0: no animation). */
  factor() {
    return ANIMATION_SPEEDS[this.speed] ?? 1;
  },
  set(changes) {
    Object.assign(this, changes);
    try {
      localStorage.setItem(ANIMATION_STORAGE_KEY, JSON.stringify({ speed: this.speed, showDelta: this.showDelta, showMaps: this.showMaps }));
    } catch {
      // private mode: the choice lasts for this page only
    }
  },
};

/** What a phase reveals in the diagram (see NetworkView.source). */
export function phaseItem(phase) {
  if (phase.kind === "forward") return `a:${phase.layer}`;
  if (phase.kind === "backward") return `d:${phase.layer}`;
  if (phase.kind === "loss") return "loss";
  return "w";
}

/** The phases completed between two frames, when few enough to animate; else []. */
export function phasesBetween(topology, prev, frame) {
  const phases = topology.phases;
  const n = phases.length;
  const from = prev.cursor?.index;
  const to = frame.cursor?.index;
  if (!Number.isInteger(from) || !Number.isInteger(to)) return [];
  let count;
  if (frame.step === prev.step && to > from) count = to - from;
  else if (frame.step === prev.step + 1 && (to < from || (to === from && from === 0))) count = n - from + to;
  else return [];
  if (count <= 0 || count > TIMINGS.maxQueuedPhases) return [];
  return Array.from({ length: count }, (_, k) => ({ index: (from + k) % n, ...phases[(from + k) % n] }));
}

/** How long a phase animates at the reader's speed (ms). */
export function phaseDuration(phase) {
  const base = phase.kind === "update" ? TIMINGS.updateFlashMs : phase.kind === "backward" ? TIMINGS.backwardAnimationMs : TIMINGS.phaseAnimationMs;
  return base * animationPrefs.factor();
}

export class PhaseAnimator {
  constructor(view) {
    this.view = view;
    this.queue = [];
    this.current = null;
    this.raf = 0;
    this.callbacks = null;
  }

  play(phases, callbacks) {
    this.finish();
    this.queue = phases.slice();
    this.callbacks = callbacks;
    this.next();
  }

  /** Jump to the end: every pending phase is shown at once. */
  finish() {
    if (!this.callbacks) return;
    cancelAnimationFrame(this.raf);
    const cb = this.callbacks;
    this.callbacks = null;
    this.clearPulses();
    for (const phase of [this.current, ...this.queue].filter(Boolean)) cb.onEnd(phase);
    this.current = null;
    this.queue = [];
    cb.onDone();
  }

  next() {
    const cb = this.callbacks;
    if (!cb) return;
    this.current = this.queue.shift() ?? null;
    if (!this.current) {
      this.callbacks = null;
      cb.onDone();
      return;
    }
    const phase = this.current;
    cb.onStart(phase);
    const paths = this.paths(phase);
    const dots = this.makeDots(paths, phase);
    this.move(dots, 0, phase); // at their start before the page is drawn (unset, they sit at 0,0)
    const glow = phase.kind === "backward" ? this.glowTargets(phase.layer) : null;
    const duration = Math.max(1, phaseDuration(phase));
    const start = performance.now();
    const tick = (now) => {
      if (this.callbacks !== cb) return;
      const p = Math.min(1, (now - start) / duration);
      const e = p < 0.5 ? 2 * p * p : 1 - (-2 * p + 2) ** 2 / 2; // ease in-out
      this.move(dots, e, phase);
      if (glow) this.grow(glow, Math.max(0, (e - 0.45) / 0.55));
      if (p < 1) {
        this.raf = requestAnimationFrame(tick);
      } else {
        this.clearPulses();
        this.current = null;
        cb.onEnd(phase);
        this.next();
      }
    };
    this.raf = requestAnimationFrame(tick);
  }

  /** The neurons whose δ the backward phase into layer `l` computes, with their final glow. */
  glowTargets(l) {
    const view = this.view;
    const colView = view.columns?.[l];
    const delta = view.frame?.layers[l - 1]?.delta;
    if (!colView || !delta) return null;
    const m = view.deltaMax(() => view.frame);
    const targets = colView.neurons.map((n, j) => ({ n, s: m > 0 && Number.isFinite(delta[j]) ? Math.abs(delta[j]) / m : 0 }));
    for (const { n } of targets) view.setGlow(n, colView.col, 0); // the error has not arrived yet
    return { col: colView.col, targets };
  }

  grow({ col, targets }, f) {
    for (const { n, s } of targets) this.view.setGlow(n, col, s * Math.min(1, f));
  }

  /** Straight paths the pulses of one phase travel along, each with a strength in [0, 1]. */
  paths(phase) {
    const view = this.view;
    const geo = view.geo;
    const frame = view.frame;
    if (!geo || !frame) return [];
    const cols = geo.columns;
    const L = cols.length - 1;
    const loss = { x: geo.loss.x - geo.loss.w / 2, y: geo.loss.y };
    const out = [];
    const between = (a, b, la, weight) => {
      // la: weight layer between column a and b; weight(i, j) → strength.
      if (!drawsEdges(cols[a], cols[b])) {
        const ca = cols[a];
        const cb = cols[b];
        for (let k = 0; k < 14; k += 1) {
          const f = (k + 0.5) / 14;
          out.push({
            x1: ca.right,
            y1: ca.top + f * (ca.bottom - ca.top),
            x2: cb.left,
            y2: cb.top + f * (cb.bottom - cb.top),
            s: 0.8,
          });
        }
        return;
      }
      for (let j = 0; j < cols[b].n; j += 1) {
        for (let i = 0; i < cols[a].n; i += 1) {
          const pa = neuronCenter(cols[a], i);
          const pb = neuronCenter(cols[b], j);
          out.push({ x1: pa.x, y1: pa.y, x2: pb.x, y2: pb.y, s: weight(i, j) });
        }
      }
    };
    if (phase.kind === "forward") {
      const l = phase.layer;
      const W = frame.layers[l - 1]?.W;
      const aPrev = l === 1 ? frame.x : frame.layers[l - 2]?.a;
      const terms = (i, j) => Math.abs((W?.[j]?.[i] ?? 0) * (aPrev?.[i] ?? 0));
      const m = maxTerm(cols[l - 1].n, cols[l].n, terms);
      between(l - 1, l, l, (i, j) => (m > 0 ? terms(i, j) / m : 0.5));
    } else if (phase.kind === "loss") {
      for (let j = 0; j < cols[L].n; j += 1) {
        const p = neuronCenter(cols[L], j);
        out.push({ x1: p.x, y1: p.y, x2: loss.x, y2: loss.y, s: 1 });
      }
    } else if (phase.kind === "backward") {
      const l = phase.layer;
      if (l === L) {
        const d = frame.layers[L - 1]?.delta;
        const m = maxAbs(d) || 1;
        for (let j = 0; j < cols[L].n; j += 1) {
          const p = neuronCenter(cols[L], j);
          out.push({ x1: loss.x, y1: loss.y, x2: p.x, y2: p.y, s: Math.abs(d?.[j] ?? m) / m });
        }
      } else {
        // δ of layer l+1 flows back through W⁽ˡ⁺¹⁾ into layer l.
        const W = frame.layers[l]?.W;
        const dNext = frame.layers[l]?.delta;
        const terms = (i, j) => Math.abs((W?.[j]?.[i] ?? 0) * (dNext?.[j] ?? 0));
        const m = maxTerm(cols[l].n, cols[l + 1].n, terms);
        const start = out.length;
        between(l, l + 1, l + 1, (i, j) => (m > 0 ? terms(i, j) / m : 0.5));
        for (let k = start; k < out.length; k += 1) {
          const p = out[k];
          out[k] = { x1: p.x2, y1: p.y2, x2: p.x1, y2: p.y1, s: p.s };
        }
      }
    }
    return out.length > MAX_PULSES ? out.filter((_, k) => k % Math.ceil(out.length / MAX_PULSES) === 0) : out;
  }

  /** A pulse per path; the error's pulses are larger, ringed, and draw a trail behind them. */
  makeDots(paths, phase) {
    const backward = phase.kind === "backward";
    const colour = phase.kind === "forward" ? COLORS.forward : phase.kind === "loss" ? COLORS.loss : COLORS.backward;
    const big = this.view.style?.halo > 16 ? 1.5 : 1;
    return paths
      .filter((p) => p.s > 0.02)
      .map((p) => {
        let trail = null;
        if (backward || phase.kind === "loss") {
          trail = document.createElementNS(SVG_NS, "line");
          trail.setAttribute("class", "trail");
          trail.setAttribute("x1", p.x1.toFixed(1));
          trail.setAttribute("y1", p.y1.toFixed(1));
          trail.setAttribute("stroke", colour);
          trail.setAttribute("stroke-width", ((backward ? 2.5 + 5 * p.s : 2) * big).toFixed(1));
          trail.setAttribute("stroke-opacity", (0.3 + 0.5 * p.s).toFixed(2));
          this.view.gTrails.appendChild(trail);
        }
        const dot = document.createElementNS(SVG_NS, "circle");
        dot.setAttribute("r", ((backward ? 4.5 + 4.5 * p.s : 2.5 + 3 * p.s) * big).toFixed(1));
        dot.setAttribute("fill", colour);
        dot.setAttribute("opacity", (0.45 + 0.55 * p.s).toFixed(2));
        dot.setAttribute("class", "pulse");
        if (backward) {
          dot.setAttribute("stroke", COLORS.deltaRing);
          dot.setAttribute("stroke-width", (1.5 * big).toFixed(1));
        }
        this.view.gPulses.appendChild(dot);
        return { dot, trail, p };
      });
  }

  move(dots, e, phase) {
    for (const { dot, trail, p } of dots) {
      const x = (p.x1 + (p.x2 - p.x1) * e).toFixed(1);
      const y = (p.y1 + (p.y2 - p.y1) * e).toFixed(1);
      dot.setAttribute("cx", x);
      dot.setAttribute("cy", y);
      if (trail) {
        trail.setAttribute("x2", x);
        trail.setAttribute("y2", y);
      }
    }
    if (phase.kind === "update") {
      // The edges breathe once: fade towards the new weights.
      this.view.gEdges.style.opacity = (0.35 + 0.65 * Math.abs(1 - 2 * e)).toFixed(3);
    }
  }

  clearPulses() {
    this.view.gPulses?.replaceChildren();
    this.view.gTrails?.replaceChildren();
    if (this.view.gEdges) this.view.gEdges.style.opacity = "";
  }
}

function maxTerm(nA, nB, terms) {
  let m = 0;
  for (let j = 0; j < nB; j += 1) for (let i = 0; i < nA; i += 1) m = Math.max(m, terms(i, j));
  return m;
}
