// "Type the exercise": a lecturer's board exercise typed into a small table (docs/lessons.md)
// — 1 to 32 rows of inputs and targets, the hidden layers, loss and output activation, the
// learning rate and batch size, optionally the initial weights as JSON. `onConfigure(parts)`
// reports it; main.js turns it into `configure` with data {name: "table", x, y}. A refused
// config comes back through `error(msg)`: each bad cell (`data.x.3.1`) is marked where it is.
// The dialog is built here, appended to <body>, so the page template holds one button only.
import { errorDetail } from "../shared/banner.js";
import { t } from "../shared/i18n.js";
import { getPath } from "../shared/state.js";

const FIELD_OF = /^(data\.x|data\.y|network\.weights|network\.hidden|network\.loss|network\.output_activation|training\.learning_rate|training\.batch_size)(\.|$)/;

/** Keys of the config that belong to a typed exercise, made to fit a change of `path` (in place). */
export function fitLessonKeys(config, path, choices) {
  const data = config.data ?? {};
  const net = config.network ?? {};
  if (path === "config.data.name") {
    if (data.name !== "table") {
      delete data.x;
      delete data.y;
    }
    const n = data.name === "table" ? data.x?.[0]?.length : choices.dataset(data.name)?.n_in;
    if (n !== 2) delete data.features;
    delete net.weights; // the widths of another data set differ
  }
  if (path === "config.data.name" || path === "config.network.loss") {
    const allowed = choices.lossInfo.get(net.loss)?.output_activations ?? [];
    if (net.output_activation && net.output_activation !== "auto" && !allowed.includes(net.output_activation)) delete net.output_activation;
  }
  if (path === "config.data.features" || path === "config.network.hidden") delete net.weights;
}

/** A cell's text as a number, or the text itself (the server names a bad cell). */
function cellValue(text) {
  const s = text.trim().replace("−", "-");
  const n = Number(s);
  return s !== "" && Number.isFinite(n) ? n : s;
}

export class ExerciseDialog {
  /** `choices`: shared/choices.js; `limits`: /api/limits; `onConfigure({x, y, hidden, loss, output_activation, weights, learning_rate, batch_size})`. */
  constructor({ choices, limits, onConfigure }) {
    Object.assign(this, { choices, limits, onConfigure });
    this.maxRows = limits.max_table_rows ?? 32;
    this.maxIn = limits.max_table_inputs ?? 64;
    this.maxOut = limits.max_table_outputs ?? 16;
    this.x = [[0.05, 0.1]];
    this.y = [[0.01, 0.99]];
    this.waiting = false;
    this.dialog = document.createElement("dialog");
    this.dialog.id = "exercise-dialog";
    this.dialog.className = "dialog exercise-dialog";
    document.body.appendChild(this.dialog);
    this.build();
  }

  /** Open with the page's current experiment (its table, when it is one). */
  open(config) {
    const data = config.data ?? {};
    if (data.name === "table" && data.x?.length) {
      this.x = structuredClone(data.x);
      this.y = structuredClone(data.y);
    }
    // a page not on a typed table starts from the textbook's set-up (2-2-2 sigmoid, MSE, η 0.5)
    const table = data.name === "table";
    const net = table ? (config.network ?? {}) : { hidden: [{ units: 2, activation: "sigmoid" }], loss: "mse", output_activation: "sigmoid" };
    this.hiddenInput.value = (net.hidden ?? []).map((l) => `${l.units}:${l.activation}`).join(",") || "none";
    this.lossSelect.value = net.loss ?? "mse";
    this.fillOutputs(net.output_activation);
    this.lrInput.value = String(table ? (getPath(config, "training.learning_rate") ?? 0.5) : 0.5);
    this.batchInput.value = String(table ? (getPath(config, "training.batch_size") ?? 1) : 1);
    this.weightsBox.value = net.weights?.length ? JSON.stringify(net.weights) : "";
    this.clearErrors();
    this.renderTable();
    if (!this.dialog.open) this.dialog.showModal();
  }

  close() {
    this.waiting = false;
    if (this.dialog.open) this.dialog.close();
  }

  // ------------------------------------------------------------------ building

  el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  button(text, key, onClick) {
    const b = this.el("button", "icon-button", text);
    b.type = "button";
    b.dataset.i18nAria = key;
    b.dataset.i18nTitle = key;
    b.setAttribute("aria-label", t(key));
    b.title = t(key);
    b.addEventListener("click", onClick);
    return b;
  }

  build() {
    const d = this.dialog;
    d.setAttribute("aria-labelledby", "exercise-title");
    const head = this.el("form", "dialog-head");
    head.method = "dialog";
    const h = this.el("h2", "", t("exercise.title"));
    h.id = "exercise-title";
    h.dataset.i18n = "exercise.title";
    const x = this.el("button", "banner-close", "×");
    x.value = "cancel";
    x.dataset.i18nAria = "banner.close";
    head.append(h, x);
    const intro = this.el("p", "hint", t("exercise.intro"));
    intro.dataset.i18n = "exercise.intro";

    const sizes = this.el("div", "exercise-sizes");
    const group = (key, minus, plus) => {
      const g = this.el("span", "exercise-size");
      const label = this.el("span", "", t(key));
      label.dataset.i18n = key;
      g.append(label, this.button("−", `${key}_less`, minus), this.button("+", `${key}_more`, plus));
      return g;
    };
    sizes.append(
      group("exercise.rows", () => this.resize(-1, 0, 0), () => this.resize(1, 0, 0)),
      group("exercise.inputs", () => this.resize(0, -1, 0), () => this.resize(0, 1, 0)),
      group("exercise.outputs", () => this.resize(0, 0, -1), () => this.resize(0, 0, 1)),
    );
    this.tableWrap = this.el("div", "exercise-table-wrap");
    this.table = this.el("table", "exercise-table");
    this.tableWrap.appendChild(this.table);

    const settings = this.el("div", "exercise-settings");
    const field = (key, input) => {
      const label = this.el("label", "exercise-field");
      const span = this.el("span", "", t(key));
      span.dataset.i18n = key;
      input.dataset.field = input.dataset.field ?? "";
      label.append(span, input);
      settings.appendChild(label);
      return input;
    };
    this.hiddenInput = field("exercise.hidden", Object.assign(this.el("input"), { type: "text", spellcheck: false }));
    this.hiddenInput.dataset.field = "network.hidden";
    this.lossSelect = field("controls.loss", this.el("select"));
    this.lossSelect.dataset.field = "network.loss";
    for (const loss of this.choices.losses) {
      const o = this.el("option", "", t(`loss.${loss}`));
      o.value = loss;
      this.lossSelect.appendChild(o);
    }
    this.lossSelect.addEventListener("change", () => this.fillOutputs(this.outSelect.value));
    this.outSelect = field("controls.output_activation", this.el("select"));
    this.outSelect.dataset.field = "network.output_activation";
    this.lrInput = field("controls.learning_rate", Object.assign(this.el("input"), { type: "text", inputMode: "decimal" }));
    this.lrInput.dataset.field = "training.learning_rate";
    this.batchInput = field("controls.batch_size", Object.assign(this.el("input"), { type: "number", min: 1, step: 1 }));
    this.batchInput.dataset.field = "training.batch_size";

    const wLabel = this.el("label", "exercise-weights");
    const wSpan = this.el("span", "", t("exercise.weights"));
    wSpan.dataset.i18n = "exercise.weights";
    this.weightsBox = Object.assign(this.el("textarea"), { rows: 3, spellcheck: false });
    this.weightsBox.dataset.field = "network.weights";
    this.weightsBox.placeholder = '[{"W": [[0.15, 0.2], [0.25, 0.3]], "b": [0.35, 0.35]}, …]';
    wLabel.append(wSpan, this.weightsBox);

    this.errorBox = this.el("div", "exercise-error");
    this.errorBox.setAttribute("role", "alert");
    this.errorBox.hidden = true;
    const actions = this.el("div", "dialog-actions");
    this.trainButton = this.el("button", "primary", t("exercise.train"));
    this.trainButton.type = "button";
    this.trainButton.id = "exercise-train";
    this.trainButton.dataset.i18n = "exercise.train";
    this.trainButton.addEventListener("click", () => this.submit());
    actions.appendChild(this.trainButton);
    d.append(head, intro, sizes, this.tableWrap, settings, wLabel, this.errorBox, actions);
  }

  fillOutputs(current) {
    const allowed = this.choices.lossInfo.get(this.lossSelect.value)?.output_activations ?? [];
    this.outSelect.replaceChildren(
      ...allowed.map((a, k) => {
        const o = this.el("option", "", t(`act.${a}`));
        o.value = k === 0 ? "auto" : a;
        return o;
      }),
    );
    this.outSelect.value = allowed.includes(current) && current !== allowed[0] ? current : "auto";
    this.outSelect.disabled = allowed.length < 2;
  }

  /** Add or remove a row, an input column or an output column (keeping what is typed). */
  resize(dRows, dIn, dOut) {
    this.readTable();
    const rows = Math.min(this.maxRows, Math.max(1, this.x.length + dRows));
    const nIn = Math.min(this.maxIn, Math.max(1, (this.x[0]?.length ?? 1) + dIn));
    const nOut = Math.min(this.maxOut, Math.max(1, (this.y[0]?.length ?? 1) + dOut));
    const fit = (row, n) => Array.from({ length: n }, (_, k) => row?.[k] ?? 0);
    this.x = Array.from({ length: rows }, (_, r) => fit(this.x[r], nIn));
    this.y = Array.from({ length: rows }, (_, r) => fit(this.y[r], nOut));
    this.renderTable();
  }

  renderTable() {
    const nIn = this.x[0]?.length ?? 1;
    const nOut = this.y[0]?.length ?? 1;
    const head = this.el("tr");
    head.appendChild(this.el("th", "", "#"));
    for (let j = 0; j < nIn; j += 1) head.appendChild(this.el("th", "col-x", `x${sub(j + 1)}`));
    for (let k = 0; k < nOut; k += 1) head.appendChild(this.el("th", "col-y", `y${sub(k + 1)}`));
    const rows = this.x.map((xr, r) => {
      const tr = this.el("tr");
      tr.appendChild(this.el("th", "", String(r + 1)));
      const cell = (v, key, label) => {
        const td = this.el("td");
        const input = Object.assign(this.el("input"), { type: "text", inputMode: "decimal", value: String(v) });
        input.dataset.field = key;
        input.setAttribute("aria-label", label);
        input.size = 6;
        td.appendChild(input);
        return td;
      };
      xr.forEach((v, j) => tr.appendChild(cell(v, `data.x.${r}.${j}`, t("exercise.cell_x", { r: r + 1, j: j + 1 }))));
      this.y[r].forEach((v, k) => tr.appendChild(cell(v, `data.y.${r}.${k}`, t("exercise.cell_y", { r: r + 1, k: k + 1 }))));
      return tr;
    });
    this.table.replaceChildren(head, ...rows);
  }

  readTable() {
    for (const input of this.table.querySelectorAll("input[data-field]")) {
      const [, which, r, c] = input.dataset.field.split(".");
      (which === "x" ? this.x : this.y)[Number(r)][Number(c)] = cellValue(input.value);
    }
  }

  // ------------------------------------------------------------------ send, and errors

  submit() {
    this.readTable();
    this.clearErrors();
    const hidden = this.hiddenInput.value.trim();
    const layers = hidden === "" || hidden === "none" ? [] : hidden.split(",").map((part) => {
      const [units, activation] = part.trim().split(":");
      return { units: Number(units), activation: (activation ?? "sigmoid").trim() };
    });
    if (layers.some((l) => !Number.isInteger(l.units) || l.units < 1)) {
      this.showErrors([{ field: "network.hidden", message: t("exercise.bad_hidden") }]);
      return;
    }
    let weights = [];
    const text = this.weightsBox.value.trim();
    if (text) {
      try {
        weights = JSON.parse(text);
      } catch (err) {
        this.showErrors([{ field: "network.weights", message: t("exercise.bad_json", { detail: String(err.message ?? err) }) }]);
        return;
      }
    }
    this.waiting = true;
    this.onConfigure({
      x: this.x,
      y: this.y,
      hidden: layers,
      loss: this.lossSelect.value,
      output_activation: this.outSelect.value,
      weights,
      learning_rate: cellValue(this.lrInput.value),
      batch_size: Number(this.batchInput.value) || 1,
    });
  }

  /** The server took the exercise (a topology came): close. */
  accepted() {
    if (this.waiting) this.close();
  }

  /** An `error` answer: shown at its fields while this dialog waits for one. True when shown here. */
  error(msg) {
    if (!this.waiting || !this.dialog.open) return false;
    this.waiting = false;
    const errors = msg.params?.errors ?? [{ field: msg.field, message: msg.message }];
    // each problem worded as the banner words it (in the page's language)
    this.showErrors(errors.map((e) => ({ field: e.field, message: errorDetail({ code: msg.code, params: { errors: [e] } }) || e.message })));
    return true;
  }

  showErrors(errors) {
    const lines = [];
    for (const e of errors) {
      const field = e.field ?? "";
      const input = this.inputFor(field);
      if (input) {
        input.classList.add("field-error");
        input.setAttribute("aria-invalid", "true");
        input.title = e.message;
      }
      lines.push(e.message.includes(field) || !field ? e.message : `${field}: ${e.message}`);
    }
    this.errorBox.textContent = lines.join("\n");
    this.errorBox.hidden = false;
    this.dialog.querySelector(".field-error")?.focus();
  }

  /** The input a field path points at: a cell (`data.x.3.1`), else the closest setting. */
  inputFor(field) {
    const exact = this.dialog.querySelector(`[data-field="${CSS.escape(field)}"]`);
    if (exact) return exact;
    const m = field.match(FIELD_OF);
    if (!m) return null;
    if (m[1] === "data.x" || m[1] === "data.y") {
      const row = field.split(".")[2];
      return this.dialog.querySelector(`[data-field^="${m[1]}.${row ?? 0}."]`);
    }
    return this.dialog.querySelector(`[data-field="${m[1]}"]`);
  }

  clearErrors() {
    for (const el of this.dialog.querySelectorAll(".field-error")) {
      el.classList.remove("field-error");
      el.removeAttribute("aria-invalid");
      el.removeAttribute("title");
    }
    this.errorBox.hidden = true;
  }

  relabel() {
    for (const el of this.dialog.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
    for (const el of this.dialog.querySelectorAll("[data-i18n-aria]")) el.setAttribute("aria-label", t(el.dataset.i18nAria));
    for (const o of this.lossSelect.options) o.textContent = t(`loss.${o.value}`);
    this.fillOutputs(this.outSelect.value);
    if (this.dialog.open) {
      this.readTable();
      this.renderTable();
    }
  }
}

function sub(n) {
  return String(n).replace(/\d/g, (d) => "₀₁₂₃₄₅₆₇₈₉"[d]);
}
