// The choice lists and data-set shapes, as the server states them: `/api/schema` → `choices`
// (the engine's registry) and `/api/datasets`. The page keeps no list of its own; every select,
// the loss ↔ task rule and the number of examples a data set has come from here.
import { getJSON } from "./api.js";

export class Choices {
  /**
   * `choices`: the `choices` key of /api/schema ({activations, losses: [{name, task, tasks,
   * output_activations}], inits, optimizers: [{name, hyper}], dtypes, datasets: {name: {n_in,
   * n_out, task, max_samples}}}); `datasets`: /api/datasets' list (display order, `default_loss`).
   */
  constructor(choices, datasets = []) {
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
  return new Choices(schema.choices, list.datasets);
}
