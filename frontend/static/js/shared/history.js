// A run's history on the page: one array per column (`step`, `train_loss`, …), merged from
// the increments frames carry (docs/protocol.md, frame `history`): `reset` starts it over,
// `start` is the index the increment's points begin at (a rewind branch cuts the tail).

export class History {
  /** `keys`: the columns kept (a frame's other history columns are ignored). */
  constructor(keys) {
    this.keys = keys;
    this.clear();
  }

  clear() {
    this.cols = Object.fromEntries(this.keys.map((k) => [k, []]));
  }

  /** Merge one increment; true when points already held were dropped (a reset or a cut). */
  add(h) {
    if (!h) return false;
    let dropped = false;
    if (h.reset) {
      this.clear();
      dropped = true;
    }
    const start = Number.isInteger(h.start) ? h.start : this.length;
    for (const key of this.keys) {
      const col = this.cols[key];
      if (start < col.length) {
        col.length = start;
        dropped = true;
      }
      if (Array.isArray(h[key])) col.push(...h[key]);
    }
    return dropped;
  }

  get length() {
    return this.cols.step.length;
  }
}
