// The status line over the diagram: step, epoch, train and test loss (of the step shown,
// also while viewing the past), the architecture and the parameter count.

const fmtLoss = (v) => (v === null || v === undefined ? "—" : Number(v).toPrecision(4));

export class StatusLine {
  /** `root`: the element holding #stat-step, #stat-epoch, #stat-train, #stat-test, #stat-params, #arch. */
  constructor(root) {
    this.stats = Object.fromEntries(["step", "epoch", "train", "test", "params"].map((k) => [k, root.querySelector(`#stat-${k}`)]));
    this.arch = root.querySelector("#arch");
  }

  set(key, text) {
    if (this.stats[key].textContent !== text) this.stats[key].textContent = text;
  }

  setTopology(topo) {
    this.arch.textContent = [topo.data.n_features, ...topo.layers.map((l) => l.units)].join("–");
  }

  /** Show `frame` (or none), the losses of `history` (charts.js) and `topology`'s size. */
  update(frame, history, topology) {
    this.set("step", frame ? String(frame.step) : "—");
    this.set("epoch", frame ? frame.epoch.toFixed(2) : "—");
    // The newest point, or the one of the step shown while viewing the past (rewind).
    let n = history.train_loss.length;
    if (frame && frame.viewing !== null && frame.viewing !== undefined) {
      const k = history.step.lastIndexOf(frame.viewing);
      if (k >= 0) n = k + 1;
    }
    this.set("train", n ? fmtLoss(history.train_loss[n - 1]) : "—");
    this.set("test", n ? fmtLoss(history.test_loss[n - 1]) : "—");
    this.set("params", topology ? String(topology.n_params) : "—");
  }
}
