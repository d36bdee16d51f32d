// The server's frames on the page. A `frame` or `grid` is drawn at the next animation frame,
// only the newest of each (frame-queue.js), while a frame's history increment is taken at
// once, so a frame not drawn loses no points; a `state` message (playing or paused, diverged,
// why Play stopped) shows at once. main.js feeds it the messages; it keeps the session
// record's frame, counters and flags, hands each view its part, and never touches the socket.
import { LatestPerFrame } from "./frame-queue.js";

export class FrameDisplay {
  /**
   * `session`: main.js's record (`frame`, `frames`, `playing` and `diverged` are written here);
   * `views`: {network, timeline, inspector, charts, output, lessons, rewind, metrics, playback,
   * banners, stop}; `onDrawn()`: after a frame is drawn (the status line).
   */
  constructor(session, views, onDrawn) {
    Object.assign(this, { session, views, onDrawn });
    this.pending = new LatestPerFrame(({ frame, grid }) => {
      if (frame) this.draw(frame);
      if (grid) this.drawGrid(grid);
    });
  }

  /** A `frame`: its history increment now, its drawing at the next animation frame. */
  frame(frame) {
    this.views.charts.receive(frame);
    this.pending.put("frame", frame);
  }

  /** A `grid` (the output plot, the heat maps in the diagram): at the next animation frame. */
  grid(grid) {
    this.pending.put("grid", grid);
  }

  /** Draw what waits now: a message about to change the session must come after it. */
  flush() {
    this.pending.flush();
  }

  /** A `state` message: playing or not, diverged, the speed in force, why Play stopped. */
  state(msg) {
    this.flush();
    const { session, views } = this;
    session.playing = msg.playing;
    session.diverged = msg.diverged;
    views.playback.setPlaying(msg.playing, msg.diverged);
    if (msg.playing && "speed" in msg) views.playback.setSpeed(msg.speed); // the speed in force
    views.banners.setDiverged(msg.diverged);
    if (session.frame) views.timeline.update({ ...session.frame, playing: msg.playing, diverged: msg.diverged });
    if (session.frame) views.rewind.update({ ...session.frame, playing: msg.playing });
    if (msg.stopped) views.stop.showStopped(msg.stopped, session.frame?.step ?? null);
  }

  draw(frame) {
    const { session, views } = this;
    session.frame = frame;
    session.frames += 1;
    session.playing = frame.playing;
    session.diverged = frame.diverged;
    views.network.update(frame);
    views.timeline.update(frame);
    views.inspector.update(frame);
    views.charts.update(frame);
    views.output.updateFrame(frame);
    views.lessons.update(frame);
    views.rewind.update(frame);
    views.metrics.update(frame);
    views.playback.setPlaying(frame.playing, frame.diverged);
    views.banners.setDiverged(frame.diverged);
    this.onDrawn();
  }

  drawGrid(grid) {
    this.views.output.update(grid);
    this.views.network.setGrid(grid);
  }
}
