// The stop condition for Play ("stop when the loss is below … / after … steps") and the
// note saying why playing stopped. It edits `state.ui.until_loss` / `until_steps` and reports
// `onChange()`; main.js puts the condition into its `play` message. Never touches the socket.
import { fmt } from "../shared/format.js";
import { t } from "../shared/i18n.js";

export class StopCondition {
  /** `state`: the page state (its `ui` is read and written); `onChange()` after an edit. */
  constructor({ loss, steps, note }, { state, onChange }) {
    Object.assign(this, { loss, steps, note, state });
    this.stopped = null; // why Play last stopped by itself: "loss" | "steps" | null
    this.step = null;
    const change = () => {
      const l = loss.value === "" ? null : Number(loss.value);
      const n = steps.value === "" ? null : Math.round(Number(steps.value));
      this.state.ui.until_loss = Number.isFinite(l) && l > 0 ? l : null;
      this.state.ui.until_steps = Number.isInteger(n) && n > 0 ? n : null;
      onChange();
    };
    loss.addEventListener("change", change);
    steps.addEventListener("change", change);
    this.sync();
  }

  /** Show the state's condition in the two inputs (after a worked example, a link). */
  sync() {
    this.loss.value = this.state.ui.until_loss ?? "";
    this.steps.value = this.state.ui.until_steps ?? "";
  }

  /** The `until` of a `play` message, or null for none. */
  until() {
    const { until_loss: loss, until_steps: steps } = this.state.ui;
    const until = {};
    if (Number.isFinite(loss) && loss > 0) until.loss = loss;
    if (Number.isInteger(steps) && steps > 0) until.steps = steps;
    return Object.keys(until).length ? until : null;
  }

  /** Play stopped by itself (`why`: "loss" | "steps") at `step`; null hides the note. */
  showStopped(why, step = this.step) {
    this.stopped = why;
    this.step = step;
    this.note.hidden = !why;
    if (why === "loss") this.note.textContent = t("stop.stopped_loss", { loss: fmt(this.state.ui.until_loss), step: step ?? "—" });
    else if (why === "steps") this.note.textContent = t("stop.stopped_steps", { step: step ?? this.state.ui.until_steps });
  }

  relabel() {
    if (this.stopped) this.showStopped(this.stopped);
  }
}
