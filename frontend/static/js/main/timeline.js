// The phase timeline: Forward L1 … Lk → Loss → Backward Lk … L1 → Update.
// Done phases are filled, the phase just run is highlighted, the next one outlined.
// Clicking a phase asks to step forward until that phase has run.
import { t } from "../shared/i18n.js";

export class Timeline {
  /** `onJump(count)`: run `count` phases (so that the clicked one is the last). */
  constructor(container, { onJump }) {
    this.container = container;
    this.onJump = onJump;
    this.phases = [];
    this.chips = [];
    this.frame = null;
    this.display = null;
    container.addEventListener("click", (event) => {
      const chip = event.target.closest("button.phase");
      if (chip && !chip.disabled) this.jump(Number(chip.dataset.index));
    });
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
    for (const group of this.groups) group.textContent = t(`timeline.${group.dataset.kind}`);
    this.chips.forEach((chip, index) => {
      const phase = this.phases[index];
      const label = phaseLabel(phase, this.L);
      chip.textContent = label.short;
      chip.setAttribute("aria-label", label.long);
      chip.title = label.long;
    });
    this.container.setAttribute("aria-label", t("timeline.aria"));
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
  }

  jump(index) {
    if (!this.frame) return;
    const n = this.phases.length;
    const next = this.frame.cursor?.index ?? 0;
    const count = index >= next ? index - next + 1 : n - next + index + 1;
    this.onJump(count);
  }
}

/** Short and long names of a phase, e.g. "→ L2" / "Forward pass, layer 2". */
export function phaseLabel(phase, L) {
  const layerName = (l) => (l === L ? t("timeline.output") : t("timeline.layer", { l }));
  switch (phase.kind) {
    case "forward":
      return { short: layerName(phase.layer), long: t("timeline.forward_long", { l: phase.layer }) };
    case "backward":
      return { short: layerName(phase.layer), long: t("timeline.backward_long", { l: phase.layer }) };
    case "loss":
      return { short: t("timeline.loss"), long: t("timeline.loss_long") };
    default:
      return { short: t("timeline.update"), long: t("timeline.update_long") };
  }
}
