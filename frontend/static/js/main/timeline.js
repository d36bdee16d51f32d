// The phase timeline: Forward H1 … Hk Out → Loss → Backward Out Hk … H1 → Update.
// Done phases are filled, the phase just run is highlighted, the next one outlined.
// Clicking a phase asks to step forward until that phase has run. Always one row: when the
// chips do not fit they are compressed (tighter, then numbers only), and past that the row
// scrolls, keeping the next phase in view.
import { t } from "../shared/i18n.js";

const FITS = ["", "compact", "dense", "micro"];

export class Timeline {
  /** `onJump(count)`: run `count` phases (so that the clicked one is the last). */
  constructor(container, { onJump }) {
    this.container = container;
    this.onJump = onJump;
    this.phases = [];
    this.chips = [];
    this.frame = null;
    this.display = null;
    this.fit = "";
    container.addEventListener("click", (event) => {
      const chip = event.target.closest("button.phase");
      if (chip && !chip.disabled) this.jump(Number(chip.dataset.index));
    });
    new ResizeObserver(() => this.refit()).observe(container);
  }

  setTopology(topology) {
    this.phases = topology.phases;
    this.L = topology.layers.length;
    this.container.replaceChildren();
    this.shown = null;
    this.groups = [];
    this.chips = this.phases.map((phase, index) => {
      const first = index === 0 || this.phases[index - 1].kind !== phase.kind;
      if (first && (phase.kind === "forward" || phase.kind === "backward")) {
        const group = document.createElement("span");
        group.className = `phase-group kind-${phase.kind}`;
        group.dataset.kind = phase.kind;
        this.container.appendChild(group);
        this.groups.push(group);
      }
      const chip = document.createElement("button");
      chip.type = "button";
      chip.className = `phase kind-${phase.kind}`;
      chip.dataset.index = index;
      chip.dataset.kind = phase.kind;
      if (phase.layer !== null) chip.dataset.layer = phase.layer;
      this.container.appendChild(chip);
      if (index < this.phases.length - 1 && this.phases[index + 1].kind !== phase.kind) {
        const arrow = document.createElement("span");
        arrow.className = "phase-arrow";
        arrow.setAttribute("aria-hidden", "true");
        arrow.textContent = "→";
        this.container.appendChild(arrow);
      }
      return chip;
    });
    this.relabel();
  }

  relabel() {
    this.container.setAttribute("aria-label", t("timeline.aria"));
    this.refit();
  }

  /** Label the chips for the fit `level` ("", "compact", "dense" or "micro"). */
  label(level) {
    this.fit = level;
    this.container.dataset.fit = level;
    const short = level !== "";
    for (const group of this.groups) {
      group.textContent = t(short ? `timeline.${group.dataset.kind}_short` : `timeline.${group.dataset.kind}`);
      group.title = t(`timeline.${group.dataset.kind}`);
    }
    this.chips.forEach((chip, index) => {
      const label = phaseLabel(this.phases[index], this.L);
      chip.textContent = level === "dense" || level === "micro" ? label.tiny : label.short;
      chip.setAttribute("aria-label", label.long);
      chip.title = label.long;
    });
  }

  /** The widest labels that fit in one row; the row scrolls past the densest. */
  refit() {
    if (!this.chips.length) return;
    const box = this.container;
    for (const level of FITS) {
      this.label(level);
      if (box.scrollWidth <= box.clientWidth + 1) break;
    }
    this.reveal();
  }

  /** Keep the next phase (and the one just run) in view when the row scrolls. */
  reveal() {
    const box = this.container;
    if (box.scrollWidth <= box.clientWidth + 1) return;
    const next = this.frame?.cursor?.index ?? 0;
    const chip = this.chips[next];
    if (!chip) return;
    const left = chip.offsetLeft - box.offsetLeft;
    if (left < box.scrollLeft + 40 || left + chip.offsetWidth > box.scrollLeft + box.clientWidth - 40) {
      box.scrollLeft = Math.max(0, left - box.clientWidth / 2);
    }
  }

  /** Show `frame`'s cursor; `display` (an animated phase) overrides the highlight while it runs. */
  update(frame) {
    this.frame = frame;
    this.render();
  }

  render() {
    const frame = this.frame;
    if (!frame) return;
    const next = frame.cursor?.index ?? 0;
    const last = frame.last_phase?.index;
    const disabled = Boolean(frame.diverged) || Boolean(frame.playing);
    // While playing every frame looks the same here: touch the chips only on a change.
    const key = `${next}|${last}|${disabled}`;
    if (key === this.shown) return;
    this.shown = key;
    this.chips.forEach((chip, index) => {
      const done = index < next && !(next === 0);
      const state = {
        done: done || (next === 0 && last !== undefined && last !== null),
        current: index === last,
        next: index === next,
      };
      const was = chip.bpState ?? {};
      for (const name of ["done", "current", "next"]) {
        if (was[name] !== state[name]) chip.classList.toggle(name, state[name]);
      }
      if (was.current !== state.current) chip.setAttribute("aria-current", state.current ? "step" : "false");
      if (chip.disabled !== disabled) chip.disabled = disabled;
      chip.bpState = state;
    });
    this.reveal();
  }

  jump(index) {
    if (!this.frame) return;
    const n = this.phases.length;
    const next = this.frame.cursor?.index ?? 0;
    const count = index >= next ? index - next + 1 : n - next + index + 1;
    this.onJump(count);
  }
}

/**
 * Names of a phase: `short` ("H2", "Out"), `tiny` ("2", "Out": numbers only, in a crowded
 * row) and `long` ("Forward pass, hidden layer 2"). Hidden layers are H1…Hn — not L1, which
 * is also the name of a penalty.
 */
export function phaseLabel(phase, L) {
  const out = phase.layer === L;
  const short = out ? t("timeline.output") : t("timeline.hidden", { l: phase.layer });
  const tiny = out ? t("timeline.output") : String(phase.layer);
  switch (phase.kind) {
    case "forward":
      return { short, tiny, long: out ? t("timeline.forward_output_long") : t("timeline.forward_hidden_long", { l: phase.layer }) };
    case "backward":
      return { short, tiny, long: out ? t("timeline.backward_output_long") : t("timeline.backward_hidden_long", { l: phase.layer }) };
    case "loss":
      return { short: t("timeline.loss"), tiny: t("timeline.loss"), long: t("timeline.loss_long") };
    default:
      return { short: t("timeline.update"), tiny: t("timeline.update"), long: t("timeline.update_long") };
  }
}
