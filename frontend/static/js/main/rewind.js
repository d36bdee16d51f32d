// The history slider: the steps the server keeps (`rewind` in topology and frames).
// Dragging asks for that step (`seek`); while a past step is shown, an indicator says so
// and "back to live" returns to the newest step. A room's follower is told that the lecturer
// looks at a past step (going on from there is the lecturer's). Never touches the socket.
import { t } from "../shared/i18n.js";

const SEEK_EVERY_MS = 80; // at most ~12 seeks a second while dragging (the message rate is 50/s)

export class RewindBar {
  constructor({ root, onSeek }) {
    this.root = root;
    this.onSeek = onSeek;
    this.slider = root.querySelector("#rewind-slider");
    this.range = root.querySelector("#rewind-range");
    this.viewingEl = root.querySelector("#rewind-viewing");
    this.live = root.querySelector("#rewind-live");
    this.rewind = null;
    this.viewing = null;
    this.following = false;
    this.dragging = false;
    this.lastSent = 0;
    this.timer = null;
    this.slider.addEventListener("pointerdown", () => (this.dragging = true));
    this.slider.addEventListener("input", () => this.throttledSeek());
    this.slider.addEventListener("change", () => {
      this.dragging = false;
      clearTimeout(this.timer);
      this.timer = null;
      this.seek(Number(this.slider.value));
    });
    this.live.addEventListener("click", () => this.onSeek(null));
  }

  throttledSeek() {
    const now = performance.now();
    if (now - this.lastSent >= SEEK_EVERY_MS) {
      this.seek(Number(this.slider.value));
      return;
    }
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.seek(Number(this.slider.value));
      }, SEEK_EVERY_MS);
    }
  }

  seek(step) {
    this.lastSent = performance.now();
    const last = this.rewind?.last;
    this.onSeek(step === last && this.viewing === null ? null : step);
  }

  /** Whether the page follows a room (read-only: the lecturer seeks, not this reader). */
  setFollowing(on) {
    this.following = on;
    this.relabel();
  }

  /** A frame or topology: its `rewind` span and `viewing` step. */
  update(msg) {
    const rw = msg.rewind ?? null;
    const viewing = msg.viewing ?? null;
    if (rw) {
      const s = this.slider;
      if (s.min !== String(rw.first)) s.min = String(rw.first);
      if (s.max !== String(rw.last)) s.max = String(rw.last);
      s.disabled = rw.count <= 1;
      if (!this.dragging) {
        const v = String(viewing ?? rw.last);
        if (s.value !== v) s.value = v;
      }
    }
    if (rw?.first !== this.rewind?.first || rw?.last !== this.rewind?.last || rw?.count !== this.rewind?.count || viewing !== this.viewing) {
      this.rewind = rw;
      this.viewing = viewing;
      this.relabel();
    }
  }

  relabel() {
    const rw = this.rewind;
    this.range.textContent = rw ? t("rewind.range", { first: rw.first, last: rw.last, count: rw.count }) : "";
    const past = this.viewing !== null;
    this.root.classList.toggle("viewing", past);
    this.viewingEl.hidden = !past;
    this.live.hidden = !past || this.following;
    if (past) this.viewingEl.textContent = t(this.following ? "rewind.viewing_follower" : "rewind.viewing_next", { n: this.viewing });
  }
}
