// The cursor through a graph's steps (the server's list: every forward step, then every
// backward step) and the controls that move it: buttons, Play, and the keyboard.
// `cursor` = how many steps are done; what the page shows follows from it alone.
import { t } from "../shared/i18n.js";

const PAUSE_MS = 260; // between two steps while playing

export class Stepper {
  constructor({ buttons, count, animator, onChange }) {
    this.b = buttons;
    this.count = count;
    this.animator = animator;
    this.onChange = onChange;
    this.report = null;
    this.steps = [];
    this.cursor = 0;
    this.playing = false;
    this.timer = 0;
    this.running = null; // the step being animated
    buttons.forward.addEventListener("click", () => this.forward());
    buttons.backward.addEventListener("click", () => this.backward());
    buttons.undo.addEventListener("click", () => this.undo());
    buttons.reset.addEventListener("click", () => this.reset());
    buttons.all.addEventListener("click", () => this.all());
    buttons.play.addEventListener("click", () => this.togglePlay());
    document.addEventListener("keydown", (e) => this.key(e));
    this.sync();
  }

  /** A new report; keep the cursor where it was when `keep` (same steps), else start over. */
  setReport(report, keep = false) {
    this.stop();
    this.animator.finish();
    const same = keep && this.report && report && this.steps.length === (report.steps?.length ?? 0);
    this.report = report;
    this.steps = report?.steps ?? [];
    this.nForward = this.steps.filter((s) => s.phase === "forward").length;
    this.forwardAt = new Map();
    this.backwardAt = new Map();
    this.steps.forEach((s, k) => (s.phase === "forward" ? this.forwardAt : this.backwardAt).set(s.node, k));
    this.cursor = same ? Math.min(this.cursor, this.steps.length) : 0;
    this.changed();
  }

  get total() {
    return this.steps.length;
  }

  /** What the steps so far reveal: {valueKnown(id), gradKnown(id), active, phase, blamed}. */
  progress() {
    const graph = this.report?.graph;
    const nodes = graph?.nodes ?? [];
    const stepped = this.steps.length > 0;
    const c = this.cursor;
    const step = this.running ?? (c > 0 ? this.steps[c - 1] : null);
    return {
      valueKnown: (id) => {
        const n = nodes[id];
        if (!n) return false;
        if (!stepped || n.op === "leaf" || n.op === "const") return n.value !== null || n.op === "upstream";
        return (this.forwardAt.get(id) ?? Infinity) < c;
      },
      gradKnown: (id) => (this.backwardAt.get(id) ?? Infinity) < c,
      active: step ? step.node : null,
      phase: step ? step.phase : null,
      step,
      blamed: this.report?.error?.node ?? null,
    };
  }

  // ------------------------------------------------------------------ moves
  advance() {
    if (this.cursor >= this.total) return false;
    this.animator.finish();
    const step = this.steps[this.cursor];
    this.running = step;
    this.changed();
    this.animator.play(step, () => {
      if (this.running !== step) return;
      this.running = null;
      this.cursor = Math.min(this.total, this.cursor + 1);
      this.changed();
      if (this.playing) this.timer = setTimeout(() => this.tickPlay(), PAUSE_MS);
    });
    return true;
  }

  next() {
    this.stop();
    this.advance();
  }

  forward() {
    this.stop();
    this.animator.finish();
    if (this.cursor < this.nForward) this.advance();
  }

  backward() {
    this.stop();
    this.animator.finish();
    if (this.cursor >= this.nForward) this.advance();
  }

  undo() {
    this.stop();
    this.animator.finish();
    if (this.cursor > 0) this.cursor -= 1;
    this.changed();
  }

  reset() {
    this.stop();
    this.animator.finish();
    this.cursor = 0;
    this.changed();
  }

  all() {
    this.stop();
    this.animator.finish();
    this.cursor = this.total;
    this.changed();
  }

  togglePlay() {
    if (this.playing) {
      this.stop();
      this.sync();
      return;
    }
    if (!this.total) return;
    this.animator.finish();
    if (this.cursor >= this.total) this.cursor = 0;
    this.playing = true;
    this.sync();
    this.tickPlay();
  }

  tickPlay() {
    if (!this.playing) return;
    if (!this.advance()) {
      this.playing = false;
      this.sync();
    }
  }

  stop() {
    clearTimeout(this.timer);
    if (this.playing) {
      this.playing = false;
      this.sync();
    }
  }

  key(e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const target = e.target;
    if (target?.closest?.("input, textarea, select, [contenteditable='true']")) return;
    const moves = {
      ArrowRight: () => this.next(),
      PageDown: () => this.next(),
      n: () => this.next(),
      f: () => this.forward(),
      b: () => this.backward(),
      ArrowLeft: () => this.undo(),
      PageUp: () => this.undo(),
      u: () => this.undo(),
      " ": () => this.togglePlay(),
      p: () => this.togglePlay(),
      Home: () => this.reset(),
      r: () => this.reset(),
      End: () => this.all(),
    };
    const move = moves[e.key];
    if (!move) return;
    if (e.key === " " && target?.closest?.("button, a")) return; // Space presses the button
    e.preventDefault();
    move();
  }

  // ------------------------------------------------------------------ display
  changed() {
    this.sync();
    this.onChange(this.progress());
  }

  sync() {
    const busy = this.running !== null;
    const c = this.cursor + (busy ? 1 : 0); // a step being animated counts as taken
    const n = this.total;
    this.b.forward.disabled = !n || c >= this.nForward;
    this.b.backward.disabled = !n || c < this.nForward || c >= n;
    this.b.undo.disabled = !n || c === 0;
    this.b.reset.disabled = !n || c === 0;
    this.b.all.disabled = !n || c >= n;
    this.b.play.disabled = !n;
    this.b.play.querySelector(".glyph").textContent = this.playing ? "❚❚" : "▶";
    this.b.play.querySelector(".label").textContent = this.playing ? t("graph.pause") : t("graph.play");
    if (!n) {
      this.count.textContent = "";
      return;
    }
    const phase = c === 0 ? "start" : c < this.nForward ? "forward" : c === this.nForward ? "forward_done" : c < n ? "backward" : "done";
    this.count.textContent = t("graph.count", { k: c, n, phase: t(`graph.phase_${phase}`) });
    this.count.dataset.phase = phase;
  }
}

