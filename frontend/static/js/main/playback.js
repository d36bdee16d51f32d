// Play/pause, speed, the step buttons, reset — and their keyboard shortcuts:
// space = play/pause, → = next phase, Shift+→ = full step, r = reset.
import { SPEEDS } from "../shared/constants.js";
import { t } from "../shared/i18n.js";

export class Playback {
  /** `onCommand(name, arg)`: "play" | "pause" | "step" (unit) | "reset" | "speed" (steps/s or null). */
  constructor(root, { onCommand }) {
    this.root = root;
    this.onCommand = onCommand;
    this.playing = false;
    this.diverged = false;
    this.playButton = root.querySelector("#play");
    this.speedSelect = root.querySelector("#speed");
    this.stepButtons = [...root.querySelectorAll("[data-step]")];
    this.playButton.addEventListener("click", () => this.togglePlay());
    for (const b of this.stepButtons) b.addEventListener("click", () => this.onCommand("step", b.dataset.step));
    root.querySelector("#reset").addEventListener("click", () => this.onCommand("reset"));
    this.speedSelect.addEventListener("change", () => {
      const v = this.speedSelect.value;
      const speed = v === "max" ? null : Number(v);
      this.speed = speed; // the menu keeps showing the speed chosen (also after Play)
      this.onCommand("speed", speed);
    });
    document.addEventListener("keydown", (event) => this.key(event));
  }

  key(event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    const typing = target.closest?.("input, select, textarea, [contenteditable]");
    if (typing || target.closest?.("dialog[open]")) return; // a dialog (CSV, gradient check) has the keys
    if (event.key === " " || event.code === "Space") {
      if (target.closest?.("button")) return; // a focused button answers space itself
      event.preventDefault();
      this.togglePlay();
    } else if (event.key === "ArrowRight") {
      event.preventDefault();
      this.onCommand("step", event.shiftKey ? "step" : "phase");
    } else if (event.key === "r" || event.key === "R") {
      event.preventDefault();
      this.onCommand("reset");
    }
  }

  togglePlay() {
    if (this.diverged) return;
    this.onCommand(this.playing ? "pause" : "play");
  }

  /**
   * Show `speed` (steps/s, null = as fast as possible) as the speed in force: the one chosen,
   * or the one the server reports in its `state` while playing. A speed not among SPEEDS
   * (from a link) gets an entry of its own.
   */
  setSpeed(speed) {
    const speeds = SPEEDS.includes(speed) ? SPEEDS : [...SPEEDS.filter((s) => s !== null), speed, null].sort((a, b) => (a === null ? 1 : b === null ? -1 : a - b));
    this.speedSelect.replaceChildren(
      ...speeds.map((s) => {
        const o = document.createElement("option");
        o.value = s === null ? "max" : String(s);
        o.textContent = s === null ? t("playback.max_speed") : t("playback.speed_value", { n: s });
        return o;
      }),
    );
    this.speedSelect.value = speed === null ? "max" : String(speed);
    this.speed = speed;
  }

  setPlaying(playing, diverged) {
    // Called with every frame: a change only touches the DOM (and rebuilds the speed menu).
    const key = `${playing}|${diverged}`;
    if (key === this.shown) return;
    this.shown = key;
    this.playing = playing;
    this.diverged = diverged;
    this.playButton.classList.toggle("playing", playing);
    this.playButton.setAttribute("aria-pressed", String(playing));
    this.relabel();
    for (const b of this.stepButtons) b.disabled = diverged;
    this.playButton.disabled = diverged;
  }

  relabel() {
    const key = this.playing ? "playback.pause" : "playback.play";
    this.playButton.querySelector(".label").textContent = t(key);
    this.playButton.querySelector(".glyph").textContent = this.playing ? "❚❚" : "▶";
    this.playButton.setAttribute("aria-label", t(key));
    this.setSpeed(this.speed ?? null);
  }
}
