// The status line over the diagram: step, epoch, train and test loss of the step shown
// (also while viewing the past), the architecture and the parameter count.
//
// The losses are the frame's `metrics`: the whole training and test sets after the step's
// update (the loss box in the diagram is the batch's, before it), and labelled so. With an
// L1/L2 penalty the train loss is the data loss, followed by the penalty and their sum
// (what training minimizes), each named.
import { t } from "../shared/i18n.js";

const fmtLoss = (v) => (v === null || v === undefined || !Number.isFinite(v) ? "—" : Number(v).toPrecision(4));

export class StatusLine {
  /** `root`: the element holding #stat-step, #stat-epoch, #stat-train, #stat-test, #stat-params, #arch. */
  constructor(root) {
    this.stats = Object.fromEntries(["step", "epoch", "train", "test", "params"].map((k) => [k, root.querySelector(`#stat-${k}`)]));
    this.arch = root.querySelector("#arch");
    // The loss labels say which loss each is (the template's words, re-keyed here).
    this.labels = { train: this.stats.train.previousElementSibling, test: this.stats.test.previousElementSibling };
    this.labels.test.dataset.i18n = "stats.test_loss_after";
    this.labels.test.parentElement.dataset.i18nTitle = "stats.test_loss_long";
    // Penalty and total, shown only when an L1/L2 penalty is on.
    this.penaltyBox = this.extra("penalty", "stats.penalty", "stats.penalty_long");
    this.totalBox = this.extra("total", "stats.total_loss", "stats.total_loss_long");
    this.labels.test.parentElement.after(this.penaltyBox, this.totalBox);
    this.stats.penalty = this.penaltyBox.querySelector("b");
    this.stats.total = this.totalBox.querySelector("b");
    this.penalized = null;
    this.showPenalty(false);
  }

  /** `<span id="stat-<key>-box"><span data-i18n=label></span> <b id="stat-<key>">—</b></span>` */
  extra(key, label, long) {
    const box = document.createElement("span");
    box.id = `stat-${key}-box`;
    box.dataset.i18nTitle = long;
    const name = document.createElement("span");
    name.dataset.i18n = label;
    name.textContent = t(label);
    const value = document.createElement("b");
    value.id = `stat-${key}`;
    value.textContent = "—";
    box.append(name, " ", value);
    box.title = t(long);
    return box;
  }

  /** Penalty and total shown or not (`on`); the train loss named after a step's update or not. */
  showPenalty(on, after = true) {
    if (on === this.penalized && after === this.after) return;
    this.penalized = on;
    this.after = after;
    this.penaltyBox.hidden = !on;
    this.totalBox.hidden = !on;
    const key = { true: { true: "stats.train_data_loss_after", false: "stats.train_data_loss" }, false: { true: "stats.train_loss_after", false: "stats.train_loss" } }[on][after];
    this.labels.train.dataset.i18n = key;
    this.labels.train.textContent = t(key);
    this.labels.train.parentElement.dataset.i18nTitle = on ? "stats.train_data_loss_long" : "stats.train_loss_long";
    this.labels.train.parentElement.title = t(this.labels.train.parentElement.dataset.i18nTitle);
  }

  set(key, text, value) {
    const el = this.stats[key];
    if (el.textContent !== text) el.textContent = text;
    if (value !== undefined) el.dataset.value = value === null || value === undefined ? "" : String(value);
  }

  setTopology(topo) {
    this.arch.textContent = [topo.data.n_features, ...topo.layers.map((l) => l.units)].join("–");
  }

  /** Show `frame` (or none): its metrics, else the losses of `history` (charts.js); `topology`'s size. */
  update(frame, history, topology) {
    this.set("step", frame ? String(frame.step) : "—");
    this.set("epoch", frame ? frame.epoch.toFixed(2) : "—");
    const m = frame?.metrics ?? null;
    let train = m?.train_loss;
    let test = m?.test_loss;
    if (!m) {
      // No metrics: the newest measured point of the history (or that of the step viewed).
      let n = history.train_loss.length;
      if (frame && frame.viewing !== null && frame.viewing !== undefined) {
        const k = history.step.lastIndexOf(frame.viewing);
        if (k >= 0) n = k + 1;
      }
      while (n > 0 && (history.train_loss[n - 1] === null || history.train_loss[n - 1] === undefined)) n -= 1;
      train = n ? history.train_loss[n - 1] : null;
      test = n ? history.test_loss[n - 1] : null;
    }
    const hyper = frame?.hyper ?? topology?.config?.training ?? {};
    const penalized = Boolean(m && (hyper.l1 > 0 || hyper.l2 > 0) && m.penalty !== undefined && m.penalty !== null);
    this.showPenalty(penalized, Boolean(frame && (frame.viewing ?? frame.step) > 0));
    this.set("train", fmtLoss(penalized ? (m.data_loss ?? train) : train), penalized ? (m.data_loss ?? train) : train);
    this.set("test", fmtLoss(test), test);
    if (penalized) {
      this.set("penalty", fmtLoss(m.penalty), m.penalty);
      this.set("total", fmtLoss(m.total_loss), m.total_loss);
    }
    this.set("params", topology ? String(topology.n_params) : "—");
  }

  relabel() {
    this.penaltyBox.title = t(this.penaltyBox.dataset.i18nTitle);
    this.totalBox.title = t(this.totalBox.dataset.i18nTitle);
  }
}
