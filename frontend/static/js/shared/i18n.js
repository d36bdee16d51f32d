// Translations: every visible string comes from frontend/static/i18n/{en,zh}.json.
// Markup names its strings with data-i18n (text), data-i18n-aria (aria-label) and
// data-i18n-title (tooltip); code calls t(key, params).
import { LANG_STORAGE_KEY } from "./constants.js";

export const LANGUAGES = ["zh", "en"];
const dictionaries = {};
let current = "en";
const listeners = new Set();

/**
 * Load both dictionaries and pick the language: the remembered choice, else the browser's.
 * `extra` names further dictionaries merged over the main one (["lab"] loads lab.{lang}.json).
 */
export async function initI18n(extra = []) {
  await Promise.all(
    LANGUAGES.map(async (lang) => {
      const files = [`${lang}.json`, ...extra.map((name) => `${name}.${lang}.json`)];
      const parts = await Promise.all(files.map(async (f) => (await fetch(`/static/i18n/${f}`)).json()));
      dictionaries[lang] = Object.assign({}, ...parts);
    }),
  );
  const stored = safeStorageGet();
  current = LANGUAGES.includes(stored) ? stored : browserLanguage();
  document.documentElement.lang = current === "zh" ? "zh-CN" : "en";
}

function browserLanguage() {
  const langs = navigator.languages?.length ? navigator.languages : [navigator.language || "en"];
  for (const l of langs) {
    const code = String(l).toLowerCase();
    if (code.startsWith("zh")) return "zh";
    if (code.startsWith("en")) return "en";
  }
  return "en";
}

function safeStorageGet() {
  try {
    return localStorage.getItem(LANG_STORAGE_KEY);
  } catch {
    return null;
  }
}

export function language() {
  return current;
}

/** Switch language, remember it, re-label the page and tell the views. */
export function setLanguage(lang) {
  if (!LANGUAGES.includes(lang) || lang === current) return;
  current = lang;
  try {
    localStorage.setItem(LANG_STORAGE_KEY, lang);
  } catch {
    // private mode: the choice lasts for this page only
  }
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  applyI18n(document);
  for (const fn of listeners) fn(lang);
}

export function onLanguageChange(fn) {
  listeners.add(fn);
}

/** The header's language button: it names the other language and switches to it. */
export function bindLanguageButton(button) {
  const show = () => {
    button.textContent = current === "zh" ? "English" : "中文";
    button.setAttribute("aria-label", t("header.language"));
  };
  button.addEventListener("click", () => setLanguage(current === "zh" ? "en" : "zh"));
  onLanguageChange(show);
  show();
}

/**
 * The string for `key`, with {name} placeholders filled from `params`. Falls back to English.
 * Plurals: when the count of `params` is 1 and the language has `<key>_one`, that string is
 * used ("1 feature", not "1 features"); the count is `n`, else `count`, else the only number.
 */
export function t(key, params = {}) {
  const one = pluralKey(key, params);
  const s = (one === null ? undefined : lookup(one)) ?? lookup(key);
  if (s === undefined) {
    console.warn(`i18n: missing key ${key}`);
    return key;
  }
  return s.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}

/** A key in the current language, else in English (a key the current one lacks entirely). */
function lookup(key) {
  return dictionaries[current]?.[key] ?? dictionaries.en?.[key];
}

/** `<key>_one` when `params` counts exactly one and the current language has that form. */
function pluralKey(key, params) {
  const numbers = Object.values(params).filter((v) => typeof v === "number");
  const count = "n" in params ? params.n : "count" in params ? params.count : numbers.length === 1 ? numbers[0] : null;
  if (count !== 1) return null;
  const one = `${key}_one`;
  // Chinese has no plural: its own `key` wins over English's `key_one`.
  if (dictionaries[current]?.[one] !== undefined) return one;
  return dictionaries[current]?.[key] === undefined ? one : null;
}

/** Whether a key exists (for optional strings such as server error codes). */
export function has(key) {
  return key in (dictionaries[current] ?? {}) || key in (dictionaries.en ?? {});
}

/** Label every element under `root` that names a dictionary key. */
export function applyI18n(root) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-aria]")) {
    el.setAttribute("aria-label", t(el.dataset.i18nAria));
  }
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
}
