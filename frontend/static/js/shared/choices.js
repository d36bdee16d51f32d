// The choice lists and data-set shapes, as the server states them: `/api/schema` → `choices`
// (the engine's registry) and `/api/datasets`. The page keeps no list of its own; every select,
// the loss ↔ task rule and the number of examples a data set has come from here.
import { getJSON } from "./api.js";
import { language } from "./i18n.js";

export class Choices {
  /**
   * `choices`: the `choices` key of /api/schema ({activations, losses: [{name, task, tasks,
   * output_activations}], inits, optimizers: [{name, hyper}], dtypes, datasets: {name: {n_in,
   * n_out, task, max_samples}}}); `datasets`: /api/datasets' list (display order, `default_loss`).
   */
  constructor(choices, datasets = [], configSchema = null) {
    this.activations = [...choices.activations];
    this.inits = [...choices.inits];
    this.optimizers = choices.optimizers.map((o) => o.name);
    this.dtypes = [...choices.dtypes];
    this.losses = choices.losses.map((l) => l.name);
    this.lossInfo = new Map(choices.losses.map((l) => [l.name, l]));
    // Every task some loss can train (the CSV dialog's choices besides "auto").
    this.tasks = [...new Set(choices.losses.flatMap((l) => l.tasks))].sort();
    const listed = datasets.length ? datasets : Object.keys(choices.datasets).map((name) => ({ name }));
    this.datasets = listed.map((d) => ({ ...choices.datasets[d.name], ...d }));
    this.fieldNames = configSchema ? fieldNamesOf(configSchema) : new Map();
    this.fieldLabel = (path) => this.fieldName(path);
  }

  /**
   * A config field's name for messages, in the current language: Chinese from the schema's
   * `x-description-zh` (its words before any parenthesis), a list item with its number
   * ("隐藏层 1 · 神经元数"); English keeps the dotted path the docs use. Null when unknown.
   */
  fieldName(path) {
    if (language() !== "zh" || !path) return null;
    const parts = String(path).split(".");
    const names = [];
    let generic = "";
    for (const [k, part] of parts.entries()) {
      const index = /^\d+$/.test(part);
      generic = generic ? `${generic}.${index ? "[]" : part}` : part;
      const name = this.fieldNames.get(generic);
      if (index) {
        const last = names.pop() ?? "";
        names.push(`${last} ${Number(part) + 1}`.trim());
      } else if (name) {
        names.push(name);
      } else if (k === parts.length - 1) {
        return null; // a section ("training") has no name of its own; an unknown leaf has none
      }
    }
    // "network.hidden.0.units": the list's name and number, then the item's field
    return names.join(" · ");
  }

  /**
   * Make the page `state`'s config fit its data set (in place): the loss must train its task
   * and the examples be at most its size. A CSV's task is known to the server only: its
   * loss is left for the server to choose (`state.ui.csvFresh`).
   */
  fitConfig(state, limits) {
    const config = state.config;
    if (config.data.name === "csv") {
      state.ui.csvFresh = true;
      return;
    }
    const info = this.dataset(config.data.name);
    if (info && !this.fits(config.network.loss, info.task)) config.network.loss = this.defaultLoss(info.name);
    const max = Math.min(info?.max_samples ?? limits.max_samples, limits.max_samples);
    if (config.data.samples > max) config.data.samples = max;
  }

  /** A built-in data set: `{name, n_in, n_out, task, max_samples, default_loss, …}`, or null. */
  dataset(name) {
    return this.datasets.find((d) => d.name === name) ?? null;
  }

  /** The losses that can train a task, in the registry's order. */
  lossesFor(task) {
    return this.losses.filter((name) => this.fits(name, task));
  }

  /** Whether `loss` can train data of `task`. */
  fits(loss, task) {
    return Boolean(this.lossInfo.get(loss)?.tasks.includes(task));
  }

  /** The loss a data set starts with: its own `default_loss`, else the loss made for its task. */
  defaultLoss(name) {
    const info = this.dataset(name);
    if (!info) return null;
    return info.default_loss ?? this.losses.find((l) => this.lossInfo.get(l).task === info.task) ?? null;
  }
}

/** The server's choices and built-in data sets. */
export async function loadChoices() {
  const [schema, list] = await Promise.all([getJSON("/api/schema"), getJSON("/api/datasets")]);
  return new Choices(schema.choices, list.datasets, schema.config);
}

/** Short Chinese names of the config's fields by generic path ("network.hidden.[].units"). */
function fieldNamesOf(schema) {
  const out = new Map();
  const walk = (node, path) => {
    if (!node || typeof node !== "object") return;
    const zh = node["x-description-zh"];
    if (path && typeof zh === "string") out.set(path, zh.split(/[（(]/)[0].replace(/^该隐藏层的/, "").trim());
    for (const [k, v] of Object.entries(node.properties ?? {})) walk(v, path ? `${path}.${k}` : k);
    if (node.items) walk(node.items, `${path}.[]`);
  };
  walk(schema, "");
  return out;
}
