// Classroom rooms on the main page (docs/protocol.md, Rooms and Resume).
//
// A lecturer opens a room: the join link `/r/CODE`, its QR code (made by the server) large
// enough for the projector, the live follower count, and "close". A student opens the link
// (or types the code) and follows read-only: the controls that would change the run are
// disabled, and the bar offers "make my own copy" and "leave".
//
// Also the resume token: `hello` carries it, this tab keeps it in sessionStorage, and every
// (re)connect sends it back (`/ws?resume=TOKEN`), so a reload, a dropped network or a
// restarted server brings the run back where it was. A reconnect also asks the server again
// which room this page is in: a room it no longer has (a restarted server) has ended.
//
// Like every view, this one never touches the socket: it sends through the transport.
import { applyI18n, has, t } from "../shared/i18n.js";

const TOKEN_KEY = "bpviz.resume_token";
const HASH_KEY = "bpviz.run_hash"; // the address this tab last wrote for its run
const CODE = /^[ACDEFGHJKMNPRTUVWXY34679]{6}$/; // the server's room alphabet: no look-alikes
const NOTICE_MS = 15000;
const RETRY_MS = 3000; // a room out of reach (its server's link to Redis is down) is tried again

/**
 * What a follower may not touch: every control that would change the run — and the example
 * shown, which is the lecturer's (a `focus` from a follower is refused like a step).
 */
export const RUN_CONTROLS = ["#playback", "#sidebar", ".lesson-bar", "#rewind", "#timeline", "#stop-when", "#focus-example"];

/** A code as a person typed it ("k7r-mxh") → "K7RMXH", or null when it cannot be one. */
export function normalizeCode(text) {
  const code = String(text ?? "").replace(/[\s\-_.]+/g, "").toUpperCase();
  return CODE.test(code) ? code : null;
}

/** "K7RMXH" → "K7R-MXH", easier to read aloud. */
export function formatCode(code) {
  return `${code.slice(0, 3)}-${code.slice(3)}`;
}

/** The room this page's address follows (`/r/CODE`), or null. */
export function roomFromPath(path = location.pathname) {
  const text = roomText(path);
  return text === null ? null : normalizeCode(text);
}

/** What the address names after `/r/`, as typed (decoded where it can be), or null. */
function roomText(path = location.pathname) {
  const match = /^\/r\/([^/]+)\/?$/.exec(path);
  if (!match) return null;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return match[1]; // a broken %-escape: the text itself
  }
}

function read(key) {
  try {
    return sessionStorage.getItem(key);
  } catch {
    return null; // storage off: a reload starts a new run
  }
}

function keep(key, value) {
  try {
    if (value) sessionStorage.setItem(key, value);
  } catch {
    // storage off: the run lasts as long as the connection
  }
}

const readToken = () => read(TOKEN_KEY);
const keepToken = (token) => keep(TOKEN_KEY, token);

/** Keep the address the page wrote for its run (HashWriter's `onWrite`). */
export const keepRunHash = (hash) => keep(HASH_KEY, hash);

// Read once, before the page writes anything: this load brings a link of its own when its
// address is not the one this tab last wrote for its run (a reload keeps it; a link clicked,
// pasted or typed into the same tab changes it). The link wins over the run resumed.
const kept = read(HASH_KEY);
const NEW_LINK = kept !== null && kept !== location.hash;

/**
 * The websocket address for the next (re)connect: this tab's resume token, and the room
 * the address follows. Give it to the transport as its url: `new Transport(socketUrl)`.
 */
export function socketUrl() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const params = new URLSearchParams();
  const token = readToken();
  if (token) params.set("resume", token);
  // A mistyped code goes as typed: the server answers `room_unknown`, which the page words.
  const code = roomFromPath() ?? roomText()?.slice(0, 32);
  if (code) params.set("room", code);
  const query = params.toString();
  return `${scheme}//${location.host}/ws${query ? `?${query}` : ""}`;
}

/**
 * Whether the page sends its own config after `hello`: not when it follows a room, nor when
 * the run came back — unless this load brought a different link, which wins over the run.
 */
export function wantsOwnConfig(hello, newLink = NEW_LINK) {
  return !roomFromPath() && (!hello?.resumed || newLink);
}

/**
 * Whether a resume `notice` (`resume_unknown`, …) speaks of a run this page had: not when its
 * address follows a room — a follower has no run of its own, so none was kept under its token.
 */
export function wantsResumeNotice() {
  return !roomFromPath();
}

/** The dialog's words for the end of this page's own room. */
function ownerEndedKey(reason) {
  if (reason === "closed") return "classroom.owner_closed"; // the lecturer closed it
  if (reason === "shutdown") return "classroom.owner_shutdown"; // the server is stopping
  if (reason === "restarted") return "classroom.owner_restarted"; // seen after the reconnect
  return "classroom.owner_ended";
}

/** The address without `/r/CODE` (after leaving a room), or with it (while following). */
function setPath(code) {
  const path = code ? `/r/${code}` : "/";
  if (location.pathname !== path) history.replaceState(history.state, "", path + location.search + location.hash);
}

export class RoomPanel {
  /** `transport`: where commands go and messages come from; `root`: the document. */
  /** `onFollow(on)`: the page starts (true) or stops following a room. */
  constructor({ transport, root = document, onFollow = () => {} }) {
    this.transport = transport;
    this.root = root;
    const $ = (sel) => root.querySelector(sel);
    this.el = {
      open: $("#room-open"),
      dialog: $("#room-dialog"),
      start: $("#room-start"),
      startView: $("#room-dialog .room-start"),
      ownerView: $("#room-dialog .room-owner"),
      joinForm: $("#room-join-form"),
      joinCode: $("#room-join-code"),
      code: $("#room-code"),
      qr: $("#room-qr"),
      link: $("#room-link"),
      copyLink: $("#room-copy-link"),
      localHint: $("#room-local-hint"),
      count: $("#room-count"),
      closedNote: $("#room-closed-note"),
      down: $("#room-down"),
      close: $("#room-close"),
      bar: $("#room-bar"),
      barTitle: $("#room-bar-title"),
      barDetail: $("#room-bar-detail"),
      barCount: $("#room-bar-count"),
      copy: $("#room-copy"),
      leave: $("#room-leave"),
      notice: $("#room-notice"),
    };
    this.onFollow = onFollow;
    this.room = null; // the last `room` message while in a room
    this.ownerEnded = null; // the `room` message that ended this page's own room
    this.pid = null; // the server process of the last `hello`
    this.restarted = false; // the last reconnect met another server process
    this.asking = false; // reconnected in a room: the server has not said yet whether it still is
    this.told = null; // the last `error` this panel's notice answers (the error banner need not)
    this.locked = false;
    this.noticeKey = null;
    this.noticeTimer = null;
    this.retry = null;
    this.bind();
    transport.on("hello", (msg) => this.hello(msg));
    transport.on("room", (msg) => this.update(msg));
    transport.on("topology", () => this.settle());
    transport.on("error", (msg) => this.error(msg));
    this.render();
  }

  /** True while this page follows a room (its run-changing controls are off). */
  get following() {
    return this.room?.role === "follower";
  }

  /** True while this page owns a room. */
  get owning() {
    return this.room?.role === "owner";
  }

  bind() {
    const { el } = this;
    el.open?.addEventListener("click", () => el.dialog.showModal());
    el.start.addEventListener("click", () => this.transport.send({ type: "room_open" }));
    el.joinForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const code = normalizeCode(el.joinCode.value);
      el.joinCode.setAttribute("aria-invalid", String(code === null));
      el.joinCode.setCustomValidity(code === null ? t("classroom.bad_code") : "");
      if (code === null) {
        el.joinCode.reportValidity();
        return;
      }
      this.transport.send({ type: "room_join", code });
      el.dialog.close();
    });
    el.joinCode.addEventListener("input", () => el.joinCode.setCustomValidity(""));
    el.close.addEventListener("click", () => this.transport.send({ type: "room_close" }));
    el.copyLink.addEventListener("click", () => this.copyLink());
    el.copy.addEventListener("click", () => this.transport.send({ type: "copy" }));
    el.leave.addEventListener("click", () => this.transport.send({ type: "room_leave" }));
    el.notice.querySelector("button").addEventListener("click", () => this.hideNotice());
  }

  /**
   * A `hello`: keep the token. After a reconnect the room is whatever the server says now: a
   * room it still has comes back with its `room` message, before the run's `topology`; one it
   * does not have (a restarted server, a room that ended meanwhile) is gone (`settle`).
   */
  hello(msg) {
    keepToken(msg.resume_token);
    this.restarted = this.pid !== null && msg.pid !== this.pid;
    this.pid = msg.pid ?? null;
    this.asking = this.room !== null;
  }

  /** A `topology`: a room the server did not give back after a reconnect has ended. */
  settle() {
    if (this.asking) this.gone();
  }

  /** The room this page was in is no more: the server says so, or did not give it back. */
  gone() {
    const was = this.room;
    this.asking = false;
    if (!was) return;
    this.room = null;
    const code = formatCode(was.code);
    if (was.role === "owner") {
      this.ownerEnded = { ...was, closed: true, reason: this.restarted ? "restarted" : "ended" };
      this.showNotice(ownerEndedKey(this.ownerEnded.reason), { code });
    } else {
      setPath(null);
      const reason = this.restarted ? "restarted" : was.closed && has(`classroom.ended.${was.reason}`) ? was.reason : "closed";
      this.showNotice(`classroom.ended.${reason}`, { code });
    }
    this.render();
  }

  /** A `room` message: opened, joined, a new follower count, or the end. */
  update(msg) {
    this.asking = false;
    if (!msg.closed) {
      const first = this.room?.code !== msg.code || this.room?.role !== msg.role;
      this.room = msg;
      if (first) this.hideNotice();
      if (msg.role === "owner") this.ownerEnded = null;
      if (msg.role === "follower") setPath(msg.code);
      if (first && msg.role === "owner" && !this.el.dialog.open) this.el.dialog.showModal();
    } else if (msg.role === "owner" || msg.reason === "left" || msg.reason === "copied") {
      this.room = null;
      if (msg.role === "owner") {
        this.ownerEnded = msg; // the dialog says so; an end the lecturer did not ask for, the page too
        if (msg.reason !== "closed") this.showNotice(ownerEndedKey(msg.reason), { code: formatCode(msg.code) });
      }
      if (msg.role === "follower") {
        setPath(null);
        this.showNotice(`classroom.${msg.reason}`);
      }
    } else {
      this.room = msg; // ended: the last picture stays, copy and leave still work
    }
    this.render();
  }

  /**
   * Errors about rooms: the followed room is gone (the room a reconnect asked for is unknown,
   * or the server says this page is in none), the address's room is gone, or out of reach for
   * a moment.
   */
  error(msg) {
    if (this.following && ((msg.code === "room_unknown" && msg.field === "code") || msg.code === "not_in_room")) {
      this.told = msg; // the notice says the room ended
      this.gone();
      return;
    }
    if (this.following && this.asking && msg.code === "unavailable") {
      this.room = null; // out of reach after a reconnect: the address keeps it, tried again below
      this.asking = false;
      this.render();
    }
    const code = roomFromPath();
    if (!code || this.following) return;
    if (msg.code === "room_unknown") setPath(null);
    if (msg.code === "unavailable") {
      clearTimeout(this.retry); // the server's link to its rooms comes back by itself
      this.retry = setTimeout(() => {
        if (!this.following && roomFromPath() === code) this.transport.send({ type: "room_join", code });
      }, RETRY_MS);
    }
  }

  /** Whether this panel's notice already answers an `error` (the error banner need not). */
  answers(msg) {
    return msg === this.told;
  }

  render() {
    const { el, room } = this;
    const owner = room?.role === "owner" ? room : null;
    const follower = room?.role === "follower" ? room : null;
    el.startView.hidden = Boolean(owner);
    el.ownerView.hidden = !owner;
    const ended = this.ownerEnded;
    el.closedNote.hidden = !ended;
    if (ended) el.closedNote.textContent = t(ownerEndedKey(ended.reason), { code: formatCode(ended.code) });
    if (el.open) {
      el.open.hidden = Boolean(follower);
      el.open.classList.toggle("active", Boolean(owner));
      el.open.querySelector(".label").textContent = owner
        ? t("classroom.badge", { code: formatCode(owner.code), n: owner.followers })
        : t("classroom.open");
    }
    if (owner) {
      const link = `${location.origin}/r/${owner.code}`;
      el.code.textContent = formatCode(owner.code);
      const qr = `/api/room/${owner.code}/qr.svg`;
      if (el.qr.getAttribute("src") !== qr) el.qr.src = qr;
      el.qr.alt = t("classroom.qr_alt", { code: formatCode(owner.code) });
      el.link.href = link;
      el.link.textContent = link.replace(/^https?:\/\//, "");
      el.localHint.hidden = !/^(localhost|127\.|\[::1\])/.test(location.host);
      el.count.textContent = t("classroom.followers", { n: owner.followers });
      el.down.hidden = owner.available !== false;
    }
    el.bar.hidden = !follower;
    if (follower) {
      const code = formatCode(follower.code);
      const ended = Boolean(follower.closed);
      const reason = has(`classroom.ended.${follower.reason}`) ? follower.reason : "closed";
      el.barTitle.textContent = ended ? t(`classroom.ended.${reason}`, { code }) : t("classroom.following", { code });
      el.barDetail.textContent = ended
        ? t("classroom.ended_hint")
        : follower.available === false
          ? t("classroom.unavailable")
          : t("classroom.read_only");
      el.barCount.textContent = ended ? "" : t("classroom.followers", { n: follower.followers });
      el.bar.classList.toggle("ended", ended);
    }
    this.lock(Boolean(follower));
  }

  /** A follower's page: every control that would change the run is off (inert). */
  lock(on) {
    this.root.body?.classList.toggle("room-following", on);
    for (const selector of RUN_CONTROLS) {
      for (const node of this.root.querySelectorAll(selector)) node.inert = on;
    }
    if (on === this.locked) return;
    this.locked = on;
    this.onFollow(on);
  }

  async copyLink() {
    const text = this.el.link.href;
    try {
      await navigator.clipboard.writeText(text);
      this.el.copyLink.textContent = t("classroom.link_copied");
    } catch {
      // no clipboard (a page served over plain http to another machine): select the link
      const range = document.createRange();
      range.selectNodeContents(this.el.link);
      const selection = getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    }
  }

  showNotice(key, params = {}) {
    this.noticeKey = key;
    this.noticeParams = params;
    this.el.notice.querySelector(".room-notice-text").textContent = t(key, params);
    this.el.notice.hidden = false;
    clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(() => this.hideNotice(), NOTICE_MS);
  }

  hideNotice() {
    this.el.notice.hidden = true;
    this.noticeKey = null;
  }

  /** After a change of language. */
  relabel() {
    applyI18n(this.el.dialog);
    this.el.copyLink.textContent = t("classroom.copy_link");
    if (this.noticeKey) this.showNotice(this.noticeKey, this.noticeParams);
    this.render();
  }
}
