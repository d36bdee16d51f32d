// Messages over the page: server errors (they fade after a while), the "diverged"
// banner with its reset button, and the connection status.
import { TIMINGS } from "./constants.js";
import { has, t } from "./i18n.js";

export class Banners {
  constructor({ error, diverged, connection, onReset }) {
    this.error = error;
    this.diverged = diverged;
    this.connection = connection;
    this.timer = null;
    this.lastError = null;
    this.status = "connecting";
    diverged.querySelector("button").addEventListener("click", onReset);
    error.querySelector("button").addEventListener("click", () => this.hideError());
  }

  /** A server `error` message (or a client-side one), shown in the reader's language. */
  showError(message) {
    this.lastError = message;
    const title = has(`error.${message.code}`) ? t(`error.${message.code}`) : t("error.generic");
    this.error.querySelector(".banner-title").textContent = title;
    this.error.querySelector(".banner-detail").textContent = message.message ?? "";
    this.error.hidden = false;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.hideError(), TIMINGS.errorBannerMs);
  }

  hideError() {
    this.error.hidden = true;
    this.lastError = null;
  }

  setDiverged(diverged) {
    if (this.diverged.hidden === !diverged) return;
    this.diverged.hidden = !diverged;
  }

  setConnection(status) {
    this.status = status;
    this.connection.dataset.status = status;
    this.connection.querySelector(".label").textContent = t(`connection.${status}`);
    this.connection.setAttribute("aria-label", t(`connection.${status}`));
  }

  relabel() {
    this.setConnection(this.status);
    if (this.lastError) this.showError(this.lastError);
  }
}
