// The worked-examples menu and the note of the example on screen (presets.js holds the
// examples). Choosing one reports `onChoose(preset)`; main.js applies it. The example shown
// lives in the page state (`ui.lesson`), so its link brings the note back.
import { t } from "../shared/i18n.js";
import { PRESETS } from "./presets.js";

export class LessonMenu {
  /** `menu`: the <select>; `note`: the explanation box; `onChoose(preset | null)`; `onClose()`. */
  constructor({ menu, note }, { state, onChoose, onClose }) {
    Object.assign(this, { menu, note, state });
    menu.addEventListener("change", () => onChoose(PRESETS.find((p) => p.id === menu.value) ?? null));
    note.querySelector("button").addEventListener("click", onClose);
    this.fill();
    this.show();
  }

  /** The example shown, if the state names one that exists. */
  current() {
    return PRESETS.some((p) => p.id === this.state.ui.lesson) ? this.state.ui.lesson : "";
  }

  fill() {
    const first = document.createElement("option");
    first.value = "";
    first.textContent = t("presets.menu");
    this.menu.replaceChildren(
      first,
      ...PRESETS.map((p) => {
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
  }

  relabel() {
    this.fill();
    this.show();
  }
}
