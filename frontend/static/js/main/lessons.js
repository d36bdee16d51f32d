// The worked-examples menu and the note of the example on screen (presets.js reads the
// examples from lessons.json). Choosing one reports `onChoose(preset)`; main.js applies it.
// The example shown lives in the page state (`ui.lesson`), so its link brings the note back.
// The note states the example's goal and says when the run shown has reached it.
import { fmt } from "../shared/format.js";
import { t } from "../shared/i18n.js";
import { ExerciseDialog } from "./exercise.js";
import { exportPng, exportSvg } from "./export-diagram.js";
import { goalStatus } from "./presets.js";
import { longNumber, PrintStep } from "./print-step.js";

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
    // An exercise computed by hand: the step's loss and new weights, with a student's digits.
    this.digitsEl = document.createElement("span");
    this.digitsEl.className = "preset-digits";
    this.digitsEl.hidden = true;
    note.querySelector(".preset-note-body").appendChild(this.digitsEl);
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
    if (!this.preset()?.exact) this.digitsEl.hidden = true;
    if (id) {
      this.note.querySelector(".preset-note-title").textContent = t(`lesson.${id}.title`);
      this.note.querySelector(".preset-note-text").textContent = t(`lesson.${id}.text`);
    }
    this.showGoal();
  }

  /** A new network: the goal is not reached yet in it. */
  setTopology() {
    this.reached = null;
    this.digitsEl.hidden = true;
    this.showGoal();
  }

  /** A frame of the live run: note the step its metrics first meet the goal at. */
  update(frame) {
    this.showDigits(frame);
    const goal = this.preset()?.goal;
    if (!goal || this.reached !== null || (frame.viewing !== null && frame.viewing !== undefined)) return;
    // A run that cannot learn is shown to fail once it has had the goal's steps.
    const due = goal.kind === "fail" ? frame.step >= goal.steps : frame.step > 0;
    if (due && goalStatus(goal, frame.metrics).met) {
      this.reached = frame.step;
      this.showGoal();
    }
  }

  /** For an exact exercise, after a whole step: "after step 1: L = 0.298371109; W⁽²⁾ = …". */
  showDigits(frame) {
    const el = this.digitsEl;
    const done = frame?.layers?.length && frame.step >= 1 && frame.cursor?.index === 0 && frame.loss !== null && frame.loss !== undefined;
    el.hidden = !(this.preset()?.exact && done);
    if (el.hidden) return;
    const sup = (n) => String(n).replace(/\d/g, (d) => "⁰¹²³⁴⁵⁶⁷⁸⁹"[d]);
    const mat = (m) => `[${m.map((row) => (Array.isArray(row) ? `[${row.map(longNumber).join(", ")}]` : longNumber(row))).join(", ")}]`;
    const parts = frame.layers.flatMap((layer, k) => [`W${sup(k + 1)} = ${mat(layer.W ?? [])}`, `b${sup(k + 1)} = ${mat(layer.b ?? [])}`]);
    el.replaceChildren();
    const head = document.createElement("strong");
    head.textContent = t("lesson.digits_after", { step: frame.step });
    const loss = document.createElement("span");
    loss.className = "preset-digits-loss";
    loss.textContent = ` L = ${longNumber(frame.loss)}`;
    const weights = document.createElement("span");
    weights.className = "preset-digits-weights";
    weights.textContent = parts.join("; ");
    el.append(head, loss, document.createElement("br"), weights);
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

/**
 * The tools of writing a lesson (docs/lessons.md), wired to the page's buttons: the "type the
 * exercise" dialog (→ `configure` with a typed table), the printable step, the diagram as SVG or
 * PNG, and `options` `exact` for a typed table (its numbers are checked against a hand computation).
 * `$`: the page's selector; `session`: main.js's (topology, frame); `configure()` sends state.config.
 */
export class LessonTools {
  constructor($, { state, session, transport, choices, limits, configure, clearLesson, showError }) {
    Object.assign(this, { state, session, transport, sentExact: false });
    this.exercise = new ExerciseDialog({
      choices,
      limits,
      onConfigure: ({ x, y, hidden, loss, output_activation, weights, learning_rate, batch_size }) => {
        const c = state.config;
        c.data = { ...c.data, name: "table", x, y };
        delete c.data.features;
        c.network = { ...c.network, hidden, loss, output_activation };
        if (weights.length) c.network.weights = weights;
        else delete c.network.weights;
        c.training = { ...c.training, learning_rate, batch_size };
        clearLesson();
        configure();
      },
    });
    $("#open-exercise")?.addEventListener("click", () => this.exercise.open(state.config));
    this.printStep = new PrintStep();
    $("#print-step-open")?.addEventListener("click", () => this.printStep.open(session.topology, session.frame));
    const name = () => `bpviz-${state.config.data.name}-step${session.frame?.step ?? 0}`;
    const svg = () => $("#network svg.network-svg");
    $("#export-svg")?.addEventListener("click", () => exportSvg(svg(), name()));
    $("#export-png")?.addEventListener("click", () => exportPng(svg(), name()).catch((err) => showError({ code: "export", message: String(err?.message ?? err) })));
  }

  /** A new session (a connection's `hello`): its options are the server's defaults. */
  newSession() {
    this.sentExact = false;
  }

  /** Ask for every digit while the config is a typed table (`fresh`: a new session, default options). */
  exact(config, fresh = false) {
    if (fresh) this.sentExact = false;
    const exact = config.data?.name === "table";
    if (exact === this.sentExact) return;
    this.sentExact = exact;
    this.transport.send({ type: "options", exact });
  }

  /** A topology came: an exercise waiting for it was accepted. */
  accepted() {
    this.exercise.accepted();
  }

  /** A refused exercise, shown at its cells in the dialog: true when it was one. */
  error(msg) {
    return msg.code === "invalid_config" && this.exercise.error(msg);
  }

  relabel() {
    this.exercise.relabel();
    if (this.printStep.dialog.open) this.printStep.open(this.session.topology, this.session.frame);
  }
}
