// Two sessions in lock-step. The lab does not use the server's `play`: it sends each socket
// a `step` to the same target step, waits until both have answered, then sends the next,
// so the two networks are always at the same step and play at the same fixed speed. The
// target is counted from the sides' own frames: a side that missed a tick (its socket was
// reconnecting, its answer timed out) catches up on the next one. The sides answer one after
// the other: a tick is shown once both have (`onAnswered`), never one side a tick ahead.
// Commands go out one at a time (Step or +10 clicked while playing waits for the tick in flight).
import { LAB_TIMINGS } from "./constants.js";

export class Lockstep {
  /**
   * `sides`: [{transport, isDiverged: () => bool}, …]; `onChange(playing)` when play starts
   * or stops; `onAnswered()` when every side has answered a command. Replies are counted per
   * side: an `error`, or a `frame` of a session no longer playing, answers a command (a burst
   * of more than 50 steps sends frames while it runs).
   */
  constructor(sides, { onChange, onAnswered = () => {} }) {
    this.sides = sides;
    this.onChange = onChange;
    this.onAnswered = onAnswered;
    this.queue = Promise.resolve(); // the command in flight: the next waits for its answers
    this.pending = 0; // commands sent or waiting to be
    this.playing = false;
    this.pausing = false; // pause() is letting the tick in flight land, then levelling
    this.speed = 50;
    this.waiters = sides.map(() => null);
    this.at = sides.map(() => 0); // each side's step, as its latest frame says
    this.runId = 0;
    sides.forEach((side, i) => {
      const answer = (msg) => {
        if (msg.type === "frame" && Number.isInteger(msg.step)) this.at[i] = msg.step;
        const w = this.waiters[i];
        if (!w || (msg.type === "frame" && msg.playing)) return;
        this.waiters[i] = null;
        w.resolve(msg);
      };
      side.transport.on("frame", answer);
      side.transport.on("error", answer);
    });
  }

  /**
   * Send `message(i)` to every side that takes it and wait for all answers (or a timeout),
   * after the command before it has been answered (one waiter per side: a second command in
   * flight would take the first one's answer).
   */
  both(message, options) {
    this.pending += 1;
    const run = this.queue.then(() => this.send(message, options)).finally(() => (this.pending -= 1));
    this.queue = run.catch(() => {});
    return run;
  }

  async send(message, { skipDiverged = false } = {}) {
    const waits = this.sides.map((side, i) => {
      if (skipDiverged && side.isDiverged()) return Promise.resolve(null);
      const msg = typeof message === "function" ? message(i) : message;
      if (msg === null) return Promise.resolve(null);
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          this.waiters[i] = null;
          resolve(null);
        }, LAB_TIMINGS.replyTimeoutMs);
        this.waiters[i] = {
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
        };
        if (!side.transport.send(msg)) {
          clearTimeout(timer);
          this.waiters[i] = null;
          resolve(null);
        }
      });
    });
    const answers = await Promise.all(waits);
    this.onAnswered();
    return answers;
  }

  /** A command is out and not every side has answered it yet. */
  get waiting() {
    return this.waiters.some(Boolean);
  }

  /**
   * One full step (or `count` steps) on both sides: each side steps to `count` past the
   * side furthest on (a side behind takes the steps it missed too, up to the protocol's
   * 1000 a command).
   */
  step(count = 1) {
    let target = null; // counted when the command goes out (after the one before it)
    const message = (i) => {
      if (target === null) {
        const live = this.sides.map((side, k) => (side.isDiverged() ? null : this.at[k])).filter((s) => s !== null);
        target = Math.max(0, ...live) + count;
      }
      const n = Math.min(target - this.at[i], 1000);
      return n > 0 ? { type: "step", unit: "step", count: n } : null;
    };
    return this.both(message, { skipDiverged: true });
  }

  /** Rebuild both sides (`configs[i]` per side), stopping play first. */
  async configure(configs) {
    await this.pause();
    return this.both((i) => ({ type: "configure", config: configs[i] }));
  }

  async reset() {
    await this.pause();
    return this.both({ type: "reset" });
  }

  setSpeed(speed) {
    this.speed = speed;
  }

  /** Play: ticks of the steps `speed` owes since the last one, on both sides, one after the other. */
  async play() {
    if (this.playing) return;
    this.playing = true;
    const run = ++this.runId;
    this.onChange(true);
    // The steps owed by the clock: speed × the time since the last tick (a second's worth at
    // most), so the lab keeps the speed it says when drawing the charts makes ticks late.
    let owed = 0;
    let last = performance.now();
    while (this.playing && run === this.runId) {
      const t0 = performance.now();
      owed += (this.speed * Math.min(1000, t0 - last)) / 1000;
      last = t0;
      const count = Math.min(Math.max(1, Math.floor(owed)), 1000);
      owed = Math.max(0, owed - count);
      await this.step(count);
      if (this.sides.every((s) => s.isDiverged())) break;
      const wait = LAB_TIMINGS.tickMs - (performance.now() - t0);
      await new Promise((r) => setTimeout(r, Math.max(LAB_TIMINGS.minGapMs, wait)));
    }
    if (run === this.runId) {
      this.playing = false;
      this.onChange(false);
    }
  }

  /** Stop playing; resolves once the tick in flight (if any) has been answered. */
  async pause() {
    if (!this.playing) return;
    this.playing = false;
    this.pausing = true;
    this.runId += 1;
    this.onChange(false);
    try {
      // After the tick in flight has landed (commands go one at a time), a side that missed a
      // tick catches up, so that the paused lab shows both at one step.
      await this.step(0);
    } finally {
      this.pausing = false;
    }
  }

  /** Playing, pausing, or waiting for an answer: the sides' steps may still change. */
  get busy() {
    return this.playing || this.pausing || this.pending > 0;
  }
}
