// The websocket: connect, reconnect, parse, dispatch. The only module that touches the socket.
// A session's resume token (`hello.resume_token`, set with `setResumeToken`) goes with every
// reconnect (`/ws?resume=TOKEN`): a server that still has that run gives it back
// (`hello.resumed`), else it starts a new session and says so (`notice`). A reconnect after
// this page's own socket closed adds `takeover=1`: a session the server still holds under the
// token is this page's dropped connection, which the server ends (4000) and gives back; a
// socket closed with 4000 (this one was taken over) does not reconnect.
import { TIMINGS } from "./constants.js";
import { decode } from "./wire.js";

/** The close code of a connection another one took over (`/ws?…&takeover=1`). */
export const CLOSE_TAKEN_OVER = 4000;

export class Transport {
  constructor(url = defaultUrl()) {
    this.url = url;
    this.socket = null;
    this.handlers = new Map();
    this.statusHandlers = new Set();
    this.delay = TIMINGS.reconnectMinMs;
    this.timer = null;
    this.closedByUs = false;
    this.resumeToken = null;
    this.wasOpen = false; // a socket of this page opened before: the next connect is a reconnect
  }

  /** The token of the session to ask back after a disconnect (null: a new session). */
  setResumeToken(token) {
    this.resumeToken = typeof token === "string" && token ? token : null;
  }

  /** Register `fn(message)` for messages of one `type` ("*" for all). */
  on(type, fn) {
    if (!this.handlers.has(type)) this.handlers.set(type, new Set());
    this.handlers.get(type).add(fn);
    return this;
  }

  /** `fn(status, detail)`; status is "connecting", "open" or "closed". */
  onStatus(fn) {
    this.statusHandlers.add(fn);
    return this;
  }

  connect() {
    this.closedByUs = false;
    clearTimeout(this.timer);
    this.emitStatus("connecting");
    // `url` may be a function (the main page adds its stored resume token and room code)
    const base = typeof this.url === "function" ? this.url() : this.url;
    let url =
      this.resumeToken && !base.includes("resume=")
        ? `${base}${base.includes("?") ? "&" : "?"}resume=${encodeURIComponent(this.resumeToken)}`
        : base;
    if (this.wasOpen && url.includes("resume=")) url += "&takeover=1";
    const socket = new WebSocket(url);
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.wasOpen = true;
      this.delay = TIMINGS.reconnectMinMs;
      // Frames and grids as binary messages (wire.js): fewer bytes, less server work per frame.
      socket.send(JSON.stringify({ type: "options", frames: "binary" }));
      this.emitStatus("open");
    });
    socket.addEventListener("message", (event) => this.receive(event.data));
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.emitStatus("closed", { code: event.code, reason: event.reason });
      if (!this.closedByUs && event.code !== CLOSE_TAKEN_OVER) this.scheduleReconnect(event.code);
    });
  }

  scheduleReconnect(code) {
    // 1013 = the server is at its session cap: wait longer before trying again.
    const wait = code === 1013 ? TIMINGS.reconnectMaxMs : this.delay;
    this.delay = Math.min(this.delay * 2, TIMINGS.reconnectMaxMs);
    this.timer = setTimeout(() => this.connect(), wait);
  }

  close() {
    this.closedByUs = true;
    clearTimeout(this.timer);
    this.socket?.close(1000);
  }

  get isOpen() {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  /** Send one command; returns false (and sends nothing) while disconnected. */
  send(message) {
    if (!this.isOpen) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  receive(data) {
    let message;
    try {
      message = typeof data === "string" ? JSON.parse(data) : decode(data);
    } catch (err) {
      const detail = typeof data === "string" ? String(data).slice(0, 200) : String(err);
      this.dispatch({ type: "error", code: "client_bad_json", message: detail });
      return;
    }
    if (!message || typeof message.type !== "string") return;
    this.dispatch(message);
  }

  dispatch(message) {
    for (const key of [message.type, "*"]) {
      for (const fn of this.handlers.get(key) ?? []) fn(message);
    }
  }

  emitStatus(status, detail = {}) {
    for (const fn of this.statusHandlers) fn(status, detail);
  }
}

function defaultUrl() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws`;
}
