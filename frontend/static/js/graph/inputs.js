// The top panel: the expression (or the neuron's title), a small input per leaf, and a
// parse error in the reader's language with a caret under the character it points at.
import { t } from "../shared/i18n.js";
import { errorText } from "./words.js";

const DEBOUNCE_MS = 280;

/** "１.５", "−2", "3e-2" → a number (full-width digits and the real minus accepted). */
export function readNumber(text) {
  const ascii = String(text)
    .replace(/[\uff01-\uff5e]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/[−–]/g, "-")
    .trim();
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(ascii)) return null;
  const v = Number(ascii);
  return Number.isFinite(v) ? v : null;
}

export class InputPanel {
  constructor({ form, input, example, neuronHead, error, leaves, onText, onValues, onExample, onLeaveNeuron }) {
    this.form = form;
    this.input = input;
    this.neuronHead = neuronHead;
    this.error = error;
    this.leaves = leaves;
    this.onValues = onValues;
    this.timer = 0;
    this.lastError = null;
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      clearTimeout(this.timer);
      onText(input.value);
    });
    input.addEventListener("input", () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => onText(input.value), DEBOUNCE_MS);
    });
    example.addEventListener("click", onExample);
    neuronHead.querySelector("#to-expression").addEventListener("click", onLeaveNeuron);
  }

  /** "expression": the text box; "neuron": its title and note instead. */
  setMode(mode, title = "", note = "") {
    this.form.hidden = mode !== "expression";
    this.neuronHead.hidden = mode !== "neuron";
    this.neuronHead.querySelector("#neuron-title").textContent = title;
    this.neuronHead.querySelector("#neuron-note").textContent = note;
  }

  setText(text) {
    if (this.input.value !== text) this.input.value = text;
  }

  /** One input per leaf: [{name, value}]. Kept (with focus) when the names did not change. */
  setLeaves(leaves) {
    const names = leaves.map((l) => l.name).join("\u0000");
    if (this.leaves.dataset.names === names) {
      for (const l of leaves) {
        const box = this.leaves.querySelector(`input[data-leaf="${CSS.escape(l.name)}"]`);
        if (box && document.activeElement !== box && readNumber(box.value) !== l.value) box.value = String(l.value);
      }
      return;
    }
    this.leaves.dataset.names = names;
    this.leaves.replaceChildren();
    this.leaves.parentElement.hidden = leaves.length === 0;
    for (const l of leaves) {
      const label = document.createElement("label");
      label.className = "leaf";
      const name = document.createElement("span");
      name.className = "leaf-name";
      name.textContent = l.name;
      const box = document.createElement("input");
      box.type = "text";
      box.inputMode = "decimal";
      box.spellcheck = false;
      box.value = String(l.value);
      box.style.width = `${Math.min(14, Math.max(6, box.value.length + 2))}ch`;
      box.dataset.leaf = l.name;
      box.setAttribute("aria-label", t("graph.leaf_value", { name: l.name }));
      box.addEventListener("input", () => {
        const v = readNumber(box.value);
        box.classList.toggle("invalid", v === null);
        box.title = v === null ? t("graph.not_a_number") : "";
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.sendValues(), DEBOUNCE_MS);
      });
      label.append(name, box);
      this.leaves.appendChild(label);
    }
  }

  /** Every leaf value that reads as a number, at once (several may have been edited). */
  sendValues() {
    const values = {};
    for (const box of this.leaves.querySelectorAll("input[data-leaf]")) {
      const v = readNumber(box.value);
      if (v !== null) values[box.dataset.leaf] = v;
    }
    this.onValues(values);
  }

  /** An engine error: words, and for a parse error the text with a caret at `position`. */
  showError(error, text = null) {
    this.lastError = { error, text };
    const box = this.error;
    box.hidden = false;
    box.querySelector(".expr-error-text").textContent = errorText(error);
    const caret = box.querySelector(".caret-line");
    caret.replaceChildren();
    const pos = error.position;
    const parse = Number.isInteger(pos) && text !== null;
    caret.hidden = !parse;
    this.input.setAttribute("aria-invalid", parse ? "true" : "false");
    if (!parse) return;
    const chars = Array.from(text);
    // The server counts characters as Python does (code points); so does Array.from.
    const at = Math.min(pos, chars.length);
    const mark = document.createElement("mark");
    mark.textContent = at < chars.length ? chars[at] : " ";
    if (chars[at] === " ") mark.classList.add("space");
    caret.append(chars.slice(0, at).join(""), mark, chars.slice(at + 1).join(""));
    caret.title = t("graph.error_at", { n: at + 1 });
  }

  clearError() {
    this.lastError = null;
    this.error.hidden = true;
    this.input.setAttribute("aria-invalid", "false");
  }

  /** A refused request or a failed fetch, as a plain message. */
  showMessage(text) {
    this.lastError = { message: text };
    this.error.hidden = false;
    this.error.querySelector(".expr-error-text").textContent = text;
    this.error.querySelector(".caret-line").hidden = true;
  }

  relabel() {
    const last = this.lastError;
    if (last?.error) this.showError(last.error, last.text);
    for (const box of this.leaves.querySelectorAll("input[data-leaf]")) {
      box.setAttribute("aria-label", t("graph.leaf_value", { name: box.dataset.leaf }));
    }
  }
}

