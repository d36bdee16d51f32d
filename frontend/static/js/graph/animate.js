// One step's animation, driven by requestAnimationFrame, in the network view's language:
// forward — pulses run along the edges into the node being computed (from the leaves);
// backward — pulses run from the consumers back into the node (from the loss), as strong
// as the share of the gradient each edge carries; the output's backward step is a ping.
import { COLORS, TIMINGS } from "../shared/constants.js";
import { SVG_NS } from "../shared/svg.js";

export class StepAnimator {
  constructor(view) {
    this.view = view;
    this.raf = 0;
    this.onEnd = null;
  }

  get busy() {
    return this.onEnd !== null;
  }

  /** Animate `step` (a server step); call `onEnd` when it is over (or finished early). */
  play(step, onEnd) {
    this.finish();
    const view = this.view;
    if (!view.svg) {
      onEnd();
      return;
    }
    this.onEnd = onEnd;
    const colour = step.phase === "forward" ? COLORS.forward : COLORS.backward;
    const dots = [];
    const nodes = view.report.graph.nodes;
    const edges = view.edgesOf(step.node, step.phase);
    let max = 0;
    const strength = edges.map((e) => {
      if (step.phase === "forward") return 1;
      const c = nodes[e.to];
      const p = Math.abs((c.grad ?? 0) * (c.local?.[e.slot] ?? 0));
      max = Math.max(max, p);
      return p;
    });
    edges.forEach((e, k) => {
      const s = step.phase === "forward" ? 1 : max > 0 ? strength[k] / max : 0.5;
      if (step.phase === "backward" && (nodes[e.to].grad === null || nodes[e.to].local?.[e.slot] == null)) return;
      const dot = document.createElementNS(SVG_NS, "circle");
      dot.setAttribute("r", (3.5 + 3.5 * s).toFixed(1));
      dot.setAttribute("fill", colour);
      dot.setAttribute("opacity", (0.45 + 0.55 * s).toFixed(2));
      dot.setAttribute("class", "pulse");
      view.gPulses.appendChild(dot);
      dots.push({ dot, e, reverse: step.phase === "backward" });
    });
    let ping = null;
    const g = view.nodeGeometry(step.node);
    if (g) {
      ping = document.createElementNS(SVG_NS, "circle");
      ping.setAttribute("cx", g.x);
      ping.setAttribute("cy", g.y);
      ping.setAttribute("fill", "none");
      ping.setAttribute("stroke", colour);
      ping.setAttribute("class", "pulse");
      view.gPulses.appendChild(ping);
    }
    const duration = TIMINGS.phaseAnimationMs;
    const start = performance.now();
    const place = (p) => {
      const e = p < 0.5 ? 2 * p * p : 1 - (-2 * p + 2) ** 2 / 2; // ease in-out
      for (const d of dots) {
        const at = d.e.path.getPointAtLength(d.e.len * (d.reverse ? 1 - e : e));
        d.dot.setAttribute("cx", at.x.toFixed(1));
        d.dot.setAttribute("cy", at.y.toFixed(1));
      }
      if (ping && g) {
        // The node answers when the pulses arrive: a ring that widens and fades.
        const q = Math.max(0, (p - 0.55) / 0.45);
        ping.setAttribute("r", (g.h / 2 + 4 + 16 * q).toFixed(1));
        ping.setAttribute("stroke-width", (3 * (1 - q) + 0.5).toFixed(1));
        ping.setAttribute("opacity", (q > 0 ? 0.9 * (1 - q) : 0).toFixed(2));
      }
    };
    place(0); // the pulses start on their edges before the page is drawn (unset, they sit at 0,0)
    const tick = (now) => {
      if (this.onEnd !== onEnd) return;
      const p = Math.min(1, (now - start) / duration);
      place(p);
      if (p < 1) this.raf = requestAnimationFrame(tick);
      else this.finish();
    };
    this.raf = requestAnimationFrame(tick);
  }

  /** Jump to the end of the running animation, if any. */
  finish() {
    cancelAnimationFrame(this.raf);
    this.view.gPulses?.replaceChildren();
    const cb = this.onEnd;
    this.onEnd = null;
    if (cb) cb();
  }
}
