// Classroom rooms on the main page (docs/protocol.md, Rooms and Resume).
//
// A lecturer opens a room: the join link `/r/CODE`, its QR code (made by the server) large
// enough for the projector, the live follower count, and "close". A student opens the link
// (or types the code) and follows read-only: the controls that would change the run are
// disabled, and the bar offers "make my own copy" and "leave".
//
// Also the resume token: `hello` carries it, this tab keeps it in sessionStorage, and every
// (re)connect sends it back (`/ws?resume=TOKEN`), so a reload, a dropped network or a
// restarted server brings the run back where it was.
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
  const match = /^\/r\/([^/]+)\/?$/.exec(path);
  return match ? normalizeCode(decodeURIComponent(match[1])) : null;
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
  const code = roomFromPath();
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

/** The address without `/r/CODE` (after leaving a room), or with it (while following). */
function setPath(code) {
  const path = code ? `/r/${code}` : "/";
  if (location.pathname !== path) history.replaceState(history.state, "", path + location.search + location.hash);
}

export class RoomPanel {
  /** `transport`: where commands go and messages come from; `root`: the document. */
  constructor({ transport, root = document }) {
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
    this.room = null; // the last `room` message while in a room
    this.ownerEnded = null; // the `room` message that ended this page's own room
    this.noticeKey = null;
    this.noticeTimer = null;
    this.retry = null;
    this.bind();
    transport.on("hello", (msg) => keepToken(msg.resume_token));
    transport.on("room", (msg) => this.update(msg));
    transport.on("notice", (msg) => this.showNotice(`notice.${msg.code}`, msg.message));
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

  /** A `room` message: opened, joined, a new follower count, or the end. */
  update(msg) {
    if (!msg.closed) {
      const first = this.room?.code !== msg.code || this.room?.role !== msg.role;
      this.room = msg;
      if (first) this.hideNotice();
      if (msg.role === "owner") this.ownerEnded = null;
      if (msg.role === "follower") setPath(msg.code);
      if (first && msg.role === "owner" && !this.el.dialog.open) this.el.dialog.showModal();
    } else if (msg.role === "owner" || msg.reason === "left" || msg.reason === "copied") {
      this.room = null;
      if (msg.role === "owner") this.ownerEnded = msg; // the dialog says so
      if (msg.role === "follower") {
        setPath(null);
        this.showNotice(`classroom.${msg.reason}`);
      }
    } else {
      this.room = msg; // ended: the last picture stays, copy and leave still work
    }
    this.render();
  }

  /** Errors about rooms: the address's room is gone, or out of reach for a moment. */
  error(msg) {
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

  render() {
    const { el, room } = this;
    const owner = room?.role === "owner" ? room : null;
    const follower = room?.role === "follower" ? room : null;
    el.startView.hidden = Boolean(owner);
    el.ownerView.hidden = !owner;
    const ended = this.ownerEnded;
    el.closedNote.hidden = !ended;
    if (ended) {
      const key = ended.reason === "closed" ? "classroom.owner_closed" : "classroom.owner_ended";
      el.closedNote.textContent = t(key, { code: formatCode(ended.code) });
    }
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

  showNotice(key, fallback = "") {
    this.noticeKey = key;
    this.noticeFallback = fallback;
    this.el.notice.querySelector(".room-notice-text").textContent = has(key) ? t(key) : fallback;
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
    if (this.noticeKey) this.showNotice(this.noticeKey, this.noticeFallback);
    this.render();
  }
}
