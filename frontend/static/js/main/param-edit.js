// Edit one weight or bias from the inspector (docs/lessons.md, "Editing a weight"): an input
// beside the value; Enter (or the Set button) reports `onEdit({layer, param, index, value})`,
// which main.js sends as `set_param`. In the middle of a step the server answers `mid_step`:
// the block then offers "finish this step first", which finishes the step and sets the value.
// Keyboard: Tab to the input, type, Enter; Esc puts the shown value back.
import { t } from "../shared/i18n.js";
import { element } from "./inspector-tex.js";

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** The value as the input shows it: every digit the frame has. */
function shown(value) {
  return value === null || value === undefined || !Number.isFinite(value) ? "" : String(value);
}

export class ParamEdit {
  /** `onEdit({layer, param, index, value})`; `onFinishStep()` finishes the step in progress. */
  constructor({ onEdit, onFinishStep }) {
    Object.assign(this, { onEdit, onFinishStep });
    this.problem = null; // {id, code, message, pending}: the last refusal, shown under the input
  }

  static id({ layer, param, index }) {
    return `${layer}.${param}.${index.join(".")}`;
  }

  /**
   * The blocks' entry for one parameter: `spec` = {layer, param, index, value, label}. Kept
   * while its input has the focus, so a frame arriving while typing does not rebuild it.
   */
  block(spec) {
    const id = ParamEdit.id(spec);
    const focused = document.activeElement?.dataset?.paramEdit === id;
    const problem = this.problem?.id === id ? `${this.problem.code}|${this.problem.message}` : "";
    return {
      key: `edit|${id}|${focused ? "typing" : shown(spec.value)}|${problem}|${t("edit.set")}`,
      make: () => this.make(spec, id),
    };
  }

  make(spec, id) {
    const box = element("div", "param-edit", "");
    const label = element("label", "param-edit-label", "");
    const name = element("span", "", spec.label);
    const input = document.createElement("input");
    input.type = "text";
    input.inputMode = "decimal";
    input.className = "param-edit-input";
    input.dataset.paramEdit = id;
    input.value = shown(spec.value);
    input.setAttribute("aria-label", t("edit.aria", { name: spec.label }));
    input.title = t("edit.hint");
    const send = () => {
      // A decimal number (12, −0.5, .5, 1e-3): not hex, binary or octal, which Number() takes.
      const text = input.value.trim().replace("−", "-");
      const value = Number(text);
      if (!DECIMAL.test(text) || !Number.isFinite(value)) {
        this.problem = { id, code: "bad_value", message: t("edit.not_number") };
        this.refresh?.();
        return;
      }
      const msg = { layer: spec.layer, param: spec.param, index: spec.index, value };
      this.problem = null;
      this.last = { id, msg };
      this.onEdit(msg);
      input.blur();
    };
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        send();
      } else if (event.key === "Escape") {
        input.value = shown(spec.value);
        input.blur();
      }
      event.stopPropagation(); // typing here drives no page shortcut
    });
    const set = element("button", "param-edit-set", t("edit.set"));
    set.type = "button";
    set.addEventListener("click", send);
    label.append(name, input);
    box.append(label, set);
    if (this.problem?.id === id) {
      const note = element("p", "inspector-note param-edit-problem", this.problem.message);
      note.setAttribute("role", "alert");
      box.appendChild(note);
      if (this.problem.code === "mid_step") {
        const finish = element("button", "param-edit-finish", t("edit.finish_step"));
        finish.type = "button";
        const pending = this.problem.pending;
        finish.addEventListener("click", () => {
          this.problem = null;
          this.onFinishStep();
          if (pending) this.onEdit(pending);
        });
        note.append(" ", finish);
      }
    }
    return box;
  }

  /** A refused `set_param` (`mid_step`, `bad_param`): shown at the input it came from. True if ours. */
  error(msg) {
    if (!this.last || !["mid_step", "bad_param"].includes(msg.code)) return false;
    const message = msg.code === "mid_step" ? t("edit.mid_step") : msg.message;
    this.problem = { id: this.last.id, code: msg.code, message, pending: this.last.msg };
    this.refresh?.();
    return true;
  }

  /** A frame after the edit: the refusal is no longer current. */
  clear() {
    this.problem = null;
  }
}
