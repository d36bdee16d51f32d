// The control panel: data, network and training settings, built from one spec.
// Controls never talk to the server: they report `onChange(path, value)` and main.js
// decides whether that is a `configure` (network/data) or a live `set` (training).
import { BATCH_SIZES, CLIP_NORMS, LEARNING_RATES, PENALTIES, SAMPLE_STEPS } from "../shared/constants.js";
import { fmt } from "../shared/format.js";
import { t } from "../shared/i18n.js";
import { getPath } from "../shared/state.js";

/** Sections and their fields; `path` is the state path, `label` a dictionary key. */
const SPEC = [
  {
    title: "controls.data",
    fields: [
      { path: "config.data.name", label: "controls.dataset", kind: "select", options: (c) => [...c.choices.datasets.map((d) => d.name), "csv", ...(getPath(c.state, "config.data.name") === "table" ? ["table"] : [])], text: (v, c) => (v === "csv" && c.csvName ? t("dataset.csv_named", { name: c.csvName }) : t(`dataset.${v}`)) },
      { path: "config.data.features", label: "controls.features", kind: "features", visible: (c) => c.twoD() },
      { path: "config.data.noise", label: "controls.noise", visible: (c) => !c.isTable(), kind: "range", min: 0, max: 1, step: 0.05 },
      { path: "config.data.test_fraction", label: "controls.test_fraction", visible: (c) => !c.isTable(), kind: "range", min: 0, max: 0.9, step: 0.05, text: (v) => `${Math.round(v * 100)}%` },
      { path: "config.data.samples", label: "controls.samples", visible: (c) => !c.isTable(), kind: "select", options: (c) => c.sampleCounts(), number: true },
      { path: "config.training.batch_size", label: "controls.batch_size", kind: "select", options: () => BATCH_SIZES, number: true },
    ],
  },
  {
    title: "controls.network",
    layers: true,
    fields: [
      { path: "ui.all_activation", label: "controls.activation_all", kind: "select", options: (c) => ["", ...c.choices.activations], text: (v) => (v ? t(`act.${v}`) : t("controls.choose")) },
      { path: "config.network.loss", label: "controls.loss", kind: "select", options: (c) => (getPath(c.state, "config.data.name") === "table" ? c.choices.losses : c.choices.lossesFor(c.task())), text: (v) => t(`loss.${v}`) },
      { path: "config.network.output_activation", label: "controls.output_activation", kind: "select", options: (c) => c.outputActivations(), visible: (c) => c.outputActivations().length > 1, value: (v, c) => (!v || v === "auto" ? c.outputActivations()[0] : v), text: (v) => t(`act.${v}`) },
      { path: "config.network.init", label: "controls.init", kind: "select", options: (c) => c.choices.inits, text: (v) => t(`init.${v}`) },
      { path: "config.network.dropout", label: "controls.dropout", kind: "range", min: 0, max: 0.9, step: 0.05 },
      { path: "config.network.batchnorm", label: "controls.batchnorm", kind: "check", hint: "controls.batchnorm_long" },
      { path: "config.network.residual", label: "controls.residual", kind: "check", hint: "controls.residual_long" },
    ],
  },
  {
    title: "controls.training",
    fields: [
      { path: "config.training.optimizer", label: "controls.optimizer", kind: "select", options: (c) => c.choices.optimizers, text: (v) => t(`opt.${v}`) },
      { path: "config.training.learning_rate", label: "controls.learning_rate", kind: "select", options: () => LEARNING_RATES, number: true },
      { path: "config.training.l1", label: "controls.l1", kind: "select", options: () => PENALTIES, number: true, text: offText },
      { path: "config.training.l2", label: "controls.l2", kind: "select", options: () => PENALTIES, number: true, text: offText },
      { path: "config.training.clip_norm", label: "controls.clip", kind: "select", options: () => CLIP_NORMS, number: true, text: offText },
      { path: "config.seed", label: "controls.seed", kind: "seed" },
    ],
  },
];

function offText(v) {
  return v === 0 ? t("controls.off") : fmt(v);
}

export class Controls {
  /**
   * `onChange(path, value)` for a setting; `onLayers(hidden)` for the hidden layer list.
   * `choices`: the server's lists and data sets (shared/choices.js); `limits`: /api/limits.
   */
  constructor(container, { choices, limits, onChange, onLayers, features = [] }) {
    this.container = container;
    this.choices = choices;
    this.features = features; // the input features of 2-D data: [{name, label}] (/api/schema)
    this.limits = limits;
    this.onChange = onChange;
    this.onLayers = onLayers;
    this.state = null;
    this.inputs = new Map();
    this.enabled = true;
    this.build();
  }

  /** Disable every control while the server cannot hear it (offline), and back. */
  setEnabled(enabled) {
    this.enabled = enabled;
    this.applyEnabled();
  }

  applyEnabled() {
    for (const el of this.container.querySelectorAll("button, select, input")) {
      if (!this.enabled) {
        if (!el.disabled) el.dataset.offline = "1";
        el.disabled = true;
      } else if (el.dataset.offline) {
        el.disabled = false;
        delete el.dataset.offline;
      }
    }
  }

  /** The output activations the loss allows, its own first (MSE: linear, sigmoid, tanh). */
  outputActivations() {
    return this.choices.lossInfo.get(getPath(this.state, "config.network.loss"))?.output_activations ?? [];
  }

  /** Whether the data is a typed table (its rows are used as typed: no samples, noise or test split). */
  isTable() {
    return getPath(this.state, "config.data.name") === "table";
  }

  /** Whether the data has two inputs (input features apply): a 2-D built-in set or a two-column table. */
  twoD() {
    const data = getPath(this.state, "config.data") ?? {};
    if (data.name === "table") return data.x?.[0]?.length === 2;
    return this.choices.dataset(data.name)?.n_in === 2 && this.features.length > 0;
  }

  task() {
    const name = getPath(this.state, "config.data.name");
    if (name === "csv") return this.csvTask ?? "regression";
    return this.choices.dataset(name)?.task ?? "binary";
  }

  /** The example counts offered: the steps up to the data set's size, and all of a smaller set. */
  sampleCounts() {
    const limit = this.limits.max_samples ?? Infinity;
    const size = Math.min(this.choices.dataset(getPath(this.state, "config.data.name"))?.max_samples ?? limit, limit);
    const counts = SAMPLE_STEPS.filter((n) => n <= size);
    if (size < limit && !counts.includes(size)) counts.push(size);
    return counts;
  }

  build() {
    this.container.replaceChildren();
    for (const section of SPEC) {
      const box = document.createElement("section");
      box.className = "control-section";
      const h = document.createElement("h2");
      h.dataset.i18n = section.title;
      box.appendChild(h);
      if (section.layers) {
        this.layersBox = document.createElement("div");
        this.layersBox.className = "layers";
        box.appendChild(this.layersBox);
      }
      for (const field of section.fields) box.appendChild(this.buildField(field));
      this.container.appendChild(box);
    }
  }

  buildField(field) {
    const row = document.createElement("div");
    row.className = `control control-${field.kind}`;
    const id = `ctl-${field.path.replaceAll(".", "-")}`;
    const label = document.createElement("label");
    label.htmlFor = id;
    label.dataset.i18n = field.label;
    row.appendChild(label);
    let input;
    if (field.kind === "select") {
      input = document.createElement("select");
      input.addEventListener("change", () => {
        const v = field.number ? Number(input.value) : input.value;
        if (field.path === "ui.all_activation") {
          if (v) this.setAllActivations(v);
          input.value = "";
          return;
        }
        // the loss's own output activation is "auto" in the config
        if (field.path === "config.network.output_activation" && v === this.outputActivations()[0]) this.onChange(field.path, "auto");
        else this.onChange(field.path, v);
      });
    } else if (field.kind === "features") {
      input = document.createElement("div");
      input.className = "feature-toggles";
      input.setAttribute("role", "group");
      for (const f of this.features) {
        const box = document.createElement("label");
        box.className = "feature-toggle";
        const check = document.createElement("input");
        check.type = "checkbox";
        check.value = f.name;
        check.addEventListener("change", () => {
          const on = [...input.querySelectorAll("input:checked")].map((c) => c.value);
          if (!on.length) {
            check.checked = true; // the network needs at least one input
            return;
          }
          this.onChange(field.path, on);
        });
        box.append(check, document.createTextNode(f.label));
        input.appendChild(box);
      }
    } else if (field.kind === "range") {
      input = document.createElement("input");
      input.type = "range";
      Object.assign(input, { min: field.min, max: field.max, step: field.step });
      const out = document.createElement("output");
      out.htmlFor = id;
      input.addEventListener("input", () => {
        out.textContent = (field.text ?? fmt)(Number(input.value));
      });
      input.addEventListener("change", () => this.onChange(field.path, Number(input.value)));
      row.appendChild(out);
      field.output = out;
    } else if (field.kind === "check") {
      input = document.createElement("input");
      input.type = "checkbox";
      input.style.justifySelf = "start";
      input.addEventListener("change", () => this.onChange(field.path, input.checked));
      if (field.hint) label.dataset.i18nTitle = field.hint;
    } else if (field.kind === "seed") {
      input = document.createElement("input");
      input.type = "number";
      input.min = 0;
      input.max = this.limits.max_seed ?? 4294967295;
      input.step = 1;
      input.addEventListener("change", () => {
        const v = Number(input.value);
        if (Number.isInteger(v) && v >= 0) this.onChange(field.path, v);
      });
      const dice = document.createElement("button");
      dice.type = "button";
      dice.className = "icon-button";
      dice.textContent = "⚄";
      dice.dataset.i18nAria = "controls.new_seed";
      dice.dataset.i18nTitle = "controls.new_seed";
      dice.addEventListener("click", () => this.onChange(field.path, Math.floor(Math.random() * 100000)));
      row.append(input, dice);
    }
    input.id = id;
    input.dataset.i18nAria = field.label;
    if (field.kind !== "seed") row.insertBefore(input, field.output ?? null);
    this.inputs.set(field.path, { input, field, row });
    return row;
  }

  /** Show `state` in every control (after a topology, a URL change or a rejected change). */
  sync(state) {
    this.state = state;
    for (const { input, field, row } of this.inputs.values()) {
      if (field.visible) row.hidden = !field.visible(this);
      if (field.kind === "features") {
        const on = getPath(state, field.path) ?? this.features.slice(0, 2).map((f) => f.name);
        for (const check of input.querySelectorAll("input")) check.checked = on.includes(check.value);
      } else if (field.kind === "select") {
        const options = [...field.options(this)];
        const raw = getPath(state, field.path) ?? "";
        const value = field.value ? field.value(raw, this) : raw;
        const values = options.map(String);
        if (field.number && !values.includes(String(value))) options.push(value);
        input.replaceChildren(
          ...options
            .sort((a, b) => (field.number ? a - b : 0))
            .map((v) => {
              const o = document.createElement("option");
              o.value = String(v);
              o.textContent = field.text ? field.text(v, this) : field.number ? fmt(v) : String(v);
              return o;
            }),
        );
        input.value = String(value);
      } else if (field.kind === "range") {
        const v = getPath(state, field.path);
        input.value = String(v);
        field.output.textContent = (field.text ?? fmt)(v);
      } else if (field.kind === "check") {
        input.checked = Boolean(getPath(state, field.path));
      } else {
        input.value = String(getPath(state, field.path));
      }
    }
    this.buildLayers();
  }

  // ------------------------------------------------------------------ hidden layers

  hidden() {
    return structuredClone(getPath(this.state, "config.network.hidden") ?? []);
  }

  buildLayers() {
    const hidden = this.hidden();
    const box = this.layersBox;
    // The control that had the focus gets it back once rebuilt (a keyboard user pressing
    // "+" twice; the focus falling to <body> would make the next Space start training).
    const had = box.contains(document.activeElement) ? document.activeElement.dataset.key : null;
    box.replaceChildren();
    const head = document.createElement("div");
    head.className = "layers-head";
    const title = document.createElement("span");
    const key = hidden.length === 1 ? "controls.hidden_layers_one" : "controls.hidden_layers";
    title.textContent = t(key, { n: hidden.length });
    head.append(
      title,
      keyed("remove_layer", this.button("−", "controls.remove_layer", () => this.onLayers(hidden.slice(0, -1)), hidden.length === 0)),
      keyed("add_layer", this.button("+", "controls.add_layer", () => {
        const last = hidden.at(-1) ?? { units: 4, activation: "tanh" };
        this.onLayers([...hidden, { units: last.units, activation: last.activation }]);
      }, hidden.length >= (this.limits.max_hidden_layers ?? 16))),
    );
    box.appendChild(head);
    const maxUnits = this.limits.max_units ?? 256;
    hidden.forEach((layer, k) => {
      const row = document.createElement("div");
      row.className = "layer-row";
      const name = document.createElement("span");
      name.className = "layer-name";
      name.textContent = t("net.hidden_short", { l: k + 1 });
      const units = document.createElement("span");
      units.className = "layer-units";
      units.textContent = layer.units;
      units.setAttribute("aria-label", t("controls.units_of", { l: k + 1, n: layer.units }));
      const change = (units) => {
        const next = this.hidden();
        next[k].units = units;
        this.onLayers(next);
      };
      const down = layer.units > 16 ? Math.ceil(layer.units / 2) : layer.units - 1;
      const up = layer.units >= 16 ? Math.min(maxUnits, layer.units * 2) : layer.units + 1;
      const select = document.createElement("select");
      select.setAttribute("aria-label", t("controls.activation_of", { l: k + 1 }));
      select.dataset.key = `act${k}`;
      for (const act of this.choices.activations) {
        const o = document.createElement("option");
        o.value = act;
        o.textContent = t(`act.${act}`);
        select.appendChild(o);
      }
      select.value = layer.activation;
      select.addEventListener("change", () => {
        const next = this.hidden();
        next[k].activation = select.value;
        this.onLayers(next);
      });
      row.append(
        name,
        keyed(`fewer${k}`, this.button("−", "controls.fewer_neurons", () => change(down), layer.units <= 1, { l: k + 1 })),
        units,
        keyed(`more${k}`, this.button("+", "controls.more_neurons", () => change(up), layer.units >= maxUnits, { l: k + 1 })),
        select,
      );
      box.appendChild(row);
    });
    if (!this.enabled) this.applyEnabled();
    if (had) refocus(box, had);
  }

  setAllActivations(activation) {
    this.onLayers(this.hidden().map((l) => ({ ...l, activation })));
  }

  button(text, labelKey, onClick, disabled = false, params = {}) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "icon-button";
    b.textContent = text;
    b.disabled = disabled;
    b.setAttribute("aria-label", t(labelKey, params));
    b.title = t(labelKey, params);
    b.addEventListener("click", onClick);
    return b;
  }

  relabel() {
    if (this.state) this.sync(this.state);
  }
}

function keyed(key, el) {
  el.dataset.key = key;
  return el;
}

/**
 * Focus the rebuilt control `key`; when it is gone or disabled (the last layer removed,
 * a width at its limit), its row's other button, else the layer buttons at the top.
 */
function refocus(box, key) {
  const usable = (el) => el && !el.disabled;
  const pair = { remove_layer: "add_layer", add_layer: "remove_layer" };
  const row = key.match(/^(fewer|more)(\d+)$/);
  const candidates = [key, pair[key], row && `${row[1] === "more" ? "fewer" : "more"}${row[2]}`, "add_layer", "remove_layer"];
  for (const k of candidates) {
    const el = k && box.querySelector(`[data-key="${k}"]`);
    if (usable(el)) {
      el.focus();
      return;
    }
  }
}
