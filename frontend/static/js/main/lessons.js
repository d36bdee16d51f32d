// The worked-examples menu and the note of the example on screen (presets.js reads the
// examples from lessons.json). Choosing one reports `onChoose(preset)`; main.js applies it.
// The example shown lives in the page state (`ui.lesson`), so its link brings the note back.
// The note states the example's goal and says when the run shown has reached it.
import { fmt } from "../shared/format.js";
import { t } from "../shared/i18n.js";
import { goalStatus } from "./presets.js";

export class LessonMenu {
  /**
   * `menu`: the <select>; `note`: the explanation box; `presets`: the worked examples
   * (presets.js); `onChoose(preset | null)`; `onClose()`.
   */
  constructor({ menu, note }, { state, presets, onChoose, onClose }) {
    Object.assign(this, { menu, note, state, presets });
    this.reached = null; // the step the goal was first met at, in the run shown
    this.goalEl = document.createElement("span");
    this.goalEl.className = "preset-goal";
    Object.assign(this.goalEl.style, { display: "block", marginTop: "3px", fontWeight: "600" });
    note.querySelector(".preset-note-body").appendChild(this.goalEl);
    menu.addEventListener("change", () => onChoose(this.presets.find((p) => p.id === menu.value) ?? null));
    note.querySelector("button").addEventListener("click", onClose);
    this.fill();
    this.show();
  }

  /** The example shown, if the state names one that exists. */
  current() {
    return this.presets.some((p) => p.id === this.state.ui.lesson) ? this.state.ui.lesson : "";
  }

  preset() {
    return this.presets.find((p) => p.id === this.current()) ?? null;
  }

  fill() {
    const first = document.createElement("option");
    first.value = "";
    first.textContent = t("presets.menu");
    this.menu.replaceChildren(
      first,
      ...this.presets.map((p) => {
        const o = document.createElement("option");
        o.value = p.id;
        o.textContent = t(`lesson.${p.id}.title`);
        return o;
      }),
    );
    this.menu.value = this.current();
  }

  /** Show the state's example: the menu's choice and its note (hidden for none). */
  show() {
    const id = this.current();
    this.note.hidden = !id;
    this.menu.value = id;
    if (id) {
      this.note.querySelector(".preset-note-title").textContent = t(`lesson.${id}.title`);
      this.note.querySelector(".preset-note-text").textContent = t(`lesson.${id}.text`);
    }
    this.showGoal();
  }

  /** A new network: the goal is not reached yet in it. */
  setTopology() {
    this.reached = null;
    this.showGoal();
  }

  /** A frame of the live run: note the step its metrics first meet the goal at. */
  update(frame) {
    const goal = this.preset()?.goal;
    if (!goal || this.reached !== null || (frame.viewing !== null && frame.viewing !== undefined)) return;
    // A run that cannot learn is shown to fail once it has had the goal's steps.
    const due = goal.kind === "fail" ? frame.step >= goal.steps : frame.step > 0;
    if (due && goalStatus(goal, frame.metrics).met) {
      this.reached = frame.step;
      this.showGoal();
    }
  }

  showGoal() {
    const goal = this.preset()?.goal;
    const el = this.goalEl;
    el.hidden = !goal;
    if (!goal) return;
    el.dataset.reached = this.reached === null ? "" : String(this.reached);
    const what = goal.expect.map((e) => goalPart(e)).join(t("lesson.goal_and"));
    let text = t(goal.kind === "fail" ? "lesson.goal_fail" : "lesson.goal_reach", { what, steps: goal.steps });
    if (this.reached !== null) text += ` ${t(goal.kind === "fail" ? "lesson.goal_shown" : "lesson.goal_reached", { step: this.reached })}`;
    el.textContent = text;
  }

  relabel() {
    this.fill();
    this.show();
  }
}

/** "test accuracy ≥ 95%" for one expectation of a goal. */
function goalPart(e) {
  const value = "min" in e ? e.min : e.max;
  const shown = e.metric.endsWith("_acc") ? `${fmt(100 * value, 3)}%` : fmt(value);
  return t("min" in e ? "lesson.at_least" : "lesson.at_most", { metric: t(`lesson.metric.${e.metric}`), value: shown });
}
