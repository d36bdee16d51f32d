// When the server is gone: the controls that cannot work are disabled and a banner says
// why (the page keeps retrying: transport.js); the header keeps its one-word status. When
// the server answers again, the banner says plainly what happened to the run.
//
// A reconnect asks for the session back with its resume token (`hello.resume_token`, kept
// by the transport): a `hello` with `resumed: true` is the run going on where it was;
// otherwise it is a new session, the page sends its config again and the run restarts
// from step 0 — the banner says which. A `notice` (the token unknown, the store
// unreachable) is worded by its code.
import { has, t } from "../shared/i18n.js";
import { CLOSE_TAKEN_OVER } from "../shared/transport.js";

export class ConnectionWatch {
  /**
   * `after`: the element the banner goes after; `roots`: elements whose buttons, selects and
   * inputs are disabled while offline; `setEnabled(bool)`: views that rebuild their own
   * inputs (the settings panel).
   */
  constructor({ after, roots, transport, setEnabled = () => {} }) {
    this.transport = transport;
    this.roots = roots;
    this.setEnabled = setEnabled;
    this.state = "starting"; // "starting" → "online" ⇄ "offline"
    this.resumeToken = null;
    this.notice = null; // "offline" | "restarted" | "resumed"
    this.banner = document.createElement("div");
    this.banner.id = "banner-connection";
    this.banner.className = "banner banner-error";
    this.banner.setAttribute("role", "status");
    this.text = document.createElement("span");
    const close = document.createElement("button");
    close.type = "button";
    close.className = "banner-close";
    close.textContent = "×";
    close.addEventListener("click", () => this.show(this.state === "offline" ? "offline" : null));
    this.close = close;
    this.banner.append(this.text, close);
    this.banner.hidden = true;
    after.after(this.banner);
    this.timer = null;
  }

  /**
   * The transport's status: "connecting", "open" or "closed" (`detail.code` 4000: another
   * connection of this run took it over; the page does not reconnect).
   */
  status(status, detail) {
    if (status === "closed" && this.state !== "offline") {
      this.state = "offline";
      this.disable(true);
      this.show(detail?.code === CLOSE_TAKEN_OVER ? "taken_over" : "offline");
    }
  }

  /**
   * A `hello`: returns "first", "restarted" or "resumed" (the run goes on: no configure needed).
   * `quiet`: the page followed a room, so it had no run of its own to lose: the room's bar or
   * notice says what happened (room.js), not this banner.
   */
  hello(msg, quiet = false) {
    if (typeof msg.resume_token === "string") this.resumeToken = msg.resume_token;
    this.transport?.setResumeToken(this.resumeToken);
    const was = this.state;
    this.state = "online";
    if (was === "starting") return "first";
    this.disable(false);
    const how = msg.resumed === true ? "resumed" : "restarted";
    this.show(quiet ? null : how);
    return how;
  }

  /** The resume token of the last session (null until the server gives one). */
  token() {
    return this.resumeToken;
  }

  /** A server `notice` (e.g. `resume_unknown`): in the reader's words, else the server's. */
  notify(msg) {
    const key = `connection.notice.${msg.code}`;
    this.show(has(key) ? msg.code : null);
    if (!has(key)) {
      this.banner.hidden = false;
      this.text.textContent = msg.message ?? "";
    }
  }

  show(notice) {
    this.notice = notice;
    clearTimeout(this.timer);
    this.banner.hidden = !notice;
    const lasting = notice === "offline" || notice === "taken_over";
    this.close.hidden = lasting;
    this.close.setAttribute("aria-label", t("banner.close"));
    if (!notice) return;
    this.banner.dataset.notice = notice;
    this.text.textContent = t(`connection.notice.${notice}`);
    if (!lasting) this.timer = setTimeout(() => this.show(null), 15000);
  }

  disable(off) {
    this.setEnabled(!off);
    for (const root of this.roots) {
      if (!root) continue;
      for (const el of root.querySelectorAll("button, select, input")) {
        if (off) {
          if (el.disabled) continue;
          el.disabled = true;
          el.dataset.offline = "1";
        } else if (el.dataset.offline) {
          el.disabled = false;
          delete el.dataset.offline;
        }
      }
    }
  }

  relabel() {
    if (this.notice) this.show(this.notice);
  }
}
