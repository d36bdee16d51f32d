// Which example of the batch the diagram and the inspector show: a list of the batch's
// examples (the output panel's data plot also picks one by click, see output-view.js).
// Choosing reports `onFocus(k)` (k: index in the batch); main.js sends the protocol's
// `focus`. While playing the batch changes with every frame: the list waits for a pause.
import { fmt } from "../shared/format.js";
import { t } from "../shared/i18n.js";

const MAX_LISTED = 256; // a larger batch lists its first 256 examples

export class ExamplePicker {
  /** `host`: the element the list goes into; `onFocus(k)` when the reader picks example k. */
  constructor(host, { onFocus }) {
    this.box = document.createElement("label");
    this.box.className = "focus-picker hint";
    Object.assign(this.box.style, { display: "flex", alignItems: "center", gap: "6px", margin: "2px 0 4px", flexWrap: "wrap" });
    this.label = document.createElement("span");
    this.select = document.createElement("select");
    this.select.id = "focus-example";
    // Its width never follows its options' ("—" while playing, "1 of 10 — #268, y = 0" after):
    // the card keeps its height when play starts or stops.
    Object.assign(this.select.style, { flex: "0 1 15em", minWidth: "0", maxWidth: "100%" });
    this.box.append(this.label, this.select);
    host.appendChild(this.box);
    this.select.addEventListener("change", () => onFocus(Number(this.select.value)));
    this.key = null;
    this.frame = null;
    this.topology = null;
    this.box.hidden = true;
    this.relabel();
  }

  /** A short note beside the list (a click on a point outside the batch), for a few seconds. */
  say(text) {
    if (!this.note) {
      this.note = document.createElement("span");
      this.note.className = "hint focus-note";
      this.note.setAttribute("role", "status");
      this.box.after(this.note);
    }
    this.note.textContent = text;
    this.note.hidden = false;
    clearTimeout(this.noteTimer);
    this.noteTimer = setTimeout(() => (this.note.hidden = true), 4000);
  }

  setTopology(topology) {
    this.topology = topology;
    this.key = null;
  }

  update(frame) {
    this.frame = frame;
    const batch = frame.batch ?? [];
    // Shown from step 0 on (before any batch, by the batch size), so that it does not push the
    // plot down when play starts.
    this.box.hidden = (batch.length || frame.hyper?.batch_size || 0) <= 1;
    this.select.disabled = Boolean(frame.playing) || !batch.length;
    if (!batch.length || (frame.playing && !this.select.options.length)) {
      // no batch yet, or playing from the start: nothing listed (the list waits for a pause)
      const o = document.createElement("option");
      o.textContent = "—";
      this.select.replaceChildren(o);
      this.key = null;
    }
    if (this.box.hidden || frame.playing || !batch.length) return;
    const key = `${frame.step}|${batch.join(",")}`;
    if (key !== this.key) {
      this.key = key;
      this.fill(batch);
    }
    const v = String(frame.example ?? 0);
    if (this.select.value !== v) this.select.value = v;
  }

  fill(batch) {
    const n = Math.min(batch.length, MAX_LISTED);
    const y = this.topology?.data?.train?.y ?? [];
    const options = [];
    for (let k = 0; k < n; k += 1) {
      const o = document.createElement("option");
      o.value = String(k);
      const target = y[batch[k]];
      const params = { k: k + 1, b: batch.length, i: batch[k] + 1 };
      if (target === undefined || target === null) o.textContent = t("focus.option_plain", params);
      else o.textContent = t("focus.option", { ...params, y: Array.isArray(target) ? target.map((v) => fmt(v, 3)).join(", ") : fmt(target, 3) });
      options.push(o);
    }
    this.select.replaceChildren(...options);
  }

  relabel() {
    this.label.textContent = t("focus.label");
    this.select.setAttribute("aria-label", t("focus.label_long"));
    this.select.title = t("focus.label_long");
    this.key = null;
    if (this.frame) this.update(this.frame);
  }
}
