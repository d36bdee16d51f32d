// Messages over the page: server errors (they fade after a while), the "diverged"
// banner with its reset button, and the connection status.
//
// An error is worded in the reader's language from the dictionaries, by its `code` and
// `params` (docs/config.md lists them): config errors (`errors` of `invalid_config`, each
// with its field, code and params), CSV errors (the loader's codes, with row, column and
// the cell), run-import errors (`problems`, `params.reason`). A field path is shown by
// its name in the config schema (`x-description-zh` in Chinese). Only a code the
// dictionaries do not know falls back to the server's English `message`.
import { TIMINGS } from "./constants.js";
import { fmt } from "./format.js";
import { has, language, t } from "./i18n.js";

export class Banners {
  /** `fields`: the config's field names (shared/choices.js `fieldLabel`), or none. */
  constructor({ error, diverged, connection, onReset, fields = null }) {
    this.error = error;
    this.diverged = diverged;
    this.connection = connection;
    this.fields = fields;
    this.timer = null;
    this.lastError = null;
    this.status = "connecting";
    diverged.querySelector("button").addEventListener("click", onReset);
    error.querySelector("button").addEventListener("click", () => this.hideError());
  }

  /**
   * A server `error` message (or a client-side one), shown in the reader's language; its
   * `context` (e.g. which side of the lab it came from) is put before the words.
   */
  showError(message) {
    this.lastError = message;
    const { title, detail } = wordError(message, this.fields);
    this.error.querySelector(".banner-title").textContent = title;
    this.error.querySelector(".banner-detail").textContent = message.context ? `${message.context}${t("msg.colon")}${detail}` : detail;
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

  /** The header's status: a short word (it must not wrap the header), the sentence as its tooltip. */
  setConnection(status) {
    this.status = status;
    this.connection.dataset.status = status;
    const label = this.connection.querySelector(".label");
    label.textContent = has(`connection.short.${status}`) ? t(`connection.short.${status}`) : t(`connection.${status}`);
    label.style.whiteSpace = "nowrap";
    this.connection.setAttribute("aria-label", t(`connection.${status}`));
    this.connection.title = t(`connection.${status}`);
  }

  relabel() {
    this.setConnection(this.status);
    if (this.lastError) this.showError(this.lastError);
  }
}

// ------------------------------------------------------------------ wording errors

/**
 * `{title, detail}` of an `error` message in the current language. `fields(path)` names a
 * config field (else the path is shown as it is); `prefer` "data" titles a code both
 * tables know (`too_large`) as the CSV loader's.
 */
export function wordError(msg, fields = null, prefer = "error") {
  const code = msg?.code ?? "";
  const keys = prefer === "data" ? [`data_error.${code}`, `error.${code}`] : [`error.${code}`, `data_error.${code}`];
  const key = keys.find((k) => has(k));
  const title = key ? t(key) : t("error.generic");
  return { title, detail: errorDetail(msg, fields) };
}

/** The sentence(s) under the title: each problem worded by its code, joined. */
export function errorDetail(msg, fields = null) {
  // invalid_config: every problem in `params.errors`; invalid_run: in `params.problems`.
  const p = msg.params ?? {};
  const list = [p.errors, p.problems, msg.errors, msg.problems].find((x) => Array.isArray(x)) ?? null;
  const parts = [];
  if (msg.code === "invalid_run" && p.reason && has(`msg.run.${p.reason}`)) parts.push(t(`msg.run.${p.reason}`));
  if (list?.length) {
    for (const one of list) {
      const text = problemText(one, fields);
      if (text !== null) parts.push(text);
      else parts.push(one.field ? `${fieldName(one.field, fields)}: ${one.message ?? ""}` : (one.message ?? ""));
    }
  } else {
    const text = problemText(msg, fields); // by its code (a room's errors have no params)
    if (text !== null) parts.push(text);
    else if (!parts.length || language() === "en") parts.push(msg.message ?? "");
  }
  return [...new Set(parts.filter(Boolean))].join(language() === "zh" ? "；" : "; ");
}

/** One problem `{code, field, params}` in words, or null when no dictionary knows its code. */
export function problemText(p, fields = null) {
  const params = p.params ?? {};
  const field = p.field ?? params.field ?? null;
  const where = field ? fieldName(field, fields) : "";
  if (p.code === "invalid_run" && has(`msg.run.${params.reason}`)) {
    return where ? `${where}${t("msg.colon")}${t(`msg.run.${params.reason}`)}` : t(`msg.run.${params.reason}`);
  }
  const words = { field: where };
  for (const [k, v] of Object.entries(params)) if (k !== "field") words[k] = show(v);
  if (typeof params.expected === "string") words.expected = has(`msg.kind.${params.expected}`) ? t(`msg.kind.${params.expected}`) : params.expected;
  if (typeof params.got === "string") words.got = has(`msg.kind.${params.got}`) ? t(`msg.kind.${params.got}`) : params.got;
  if (typeof params.task === "string" && has(`task.${params.task}`)) words.task = t(`task.${params.task}`);
  if (typeof params.dataset === "string" && has(`dataset.${params.dataset}`)) words.dataset = t(`dataset.${params.dataset}`);
  // The first template whose every parameter the problem has.
  for (const key of templateKeys(p.code, params)) {
    const text = t(key, words);
    if (!/\{\w+\}/.test(text)) return text;
  }
  return null;
}

/**
 * The dictionary keys that may word a code, most specific first. A config error's params
 * hold its `field`: its own templates come first (a CSV's `too_large` and `not_finite`
 * differ from the config's); the loader's follow (a CSV carried by a run file).
 */
function templateKeys(code, params) {
  if (!code) return [];
  const keys = [];
  if ("field" in params) {
    if (code === "too_large" && "dataset" in params) keys.push("msg.field.too_large_samples");
    if (code === "too_large" && "max_length" in params) keys.push("msg.field.too_large_text");
    if ((code === "too_large" || code === "too_small") && params.exclusive) keys.push(`msg.field.${code}_x`);
    keys.push(`msg.field.${code}`);
  }
  if (code === "encoding" && params.reason) keys.push(`msg.data.encoding.${params.reason}`);
  if (code === "not_numeric" && params.role === "target") keys.push("msg.data.not_numeric_target");
  keys.push(`msg.data.${code}`, `msg.other.${code}`);
  return keys.filter((k) => has(k));
}

/** A parameter as a message shows it: numbers plainly (whole ones with separators), lists joined. */
function show(v) {
  if (v === null || v === undefined) return "—";
  if (Array.isArray(v)) return v.map((x) => show(x)).join(", ");
  if (typeof v === "number") return Number.isInteger(v) ? v.toLocaleString(language() === "zh" ? "zh-CN" : "en") : fmt(v, 6);
  return String(v);
}

/** A config field by its name in the reader's language (`fields(path)`), else its path. */
export function fieldName(path, fields = null) {
  return (fields && fields(path)) || path;
}
