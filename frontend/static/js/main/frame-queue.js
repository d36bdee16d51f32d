// Frames and grids can arrive faster than the screen refreshes (30 frames/s asked while
// playing, more after a burst): each kind of message is kept until the next animation
// frame, where only the newest of each is applied, every view writing the DOM in that one
// callback.

export class LatestPerFrame {
  /** `apply({frame, grid, …})`: the newest message of each kind put since the last call. */
  constructor(apply) {
    this.apply = apply;
    this.waiting = {};
    this.raf = 0;
  }

  put(kind, message) {
    this.waiting[kind] = message;
    if (!this.raf) this.raf = requestAnimationFrame(() => this.run());
  }

  run() {
    this.raf = 0;
    const waiting = this.waiting;
    this.waiting = {};
    this.apply(waiting);
  }

  /** Apply what waits now: a message about to change the session must come after it. */
  flush() {
    if (!this.raf) return;
    cancelAnimationFrame(this.raf);
    this.run();
  }
}
