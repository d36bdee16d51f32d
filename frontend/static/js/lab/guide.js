// The guided part of the lab: the preset links (each a full URL hash), the "compare"
// select, and the explanation of the preset on screen, in the reader's language.
import { t } from "../shared/i18n.js";
import { PRESETS } from "./presets.js";

export class LabGuide {
  /**
   * `compares`: what may differ (lab/presets.js); `presetHash(preset)` → the URL hash of a
   * preset; `onCompare(name)` when the reader picks another choice to compare.
   */
  constructor({ strip, card }, { compares, presetHash, onCompare }) {
    this.strip = strip;
    this.card = card;
    this.compares = compares;
    this.presetHash = presetHash;
    this.current = "";
    this.compare = "activation";
    strip.innerHTML = `
      <span class="lab-presets-label"></span>
      <span class="lab-preset-links"></span>
      <label class="lab-compare"><span class="k"></span> <select></select></label>`;
    this.links = strip.querySelector(".lab-preset-links");
    this.compareSelect = strip.querySelector(".lab-compare select");
    this.compareSelect.addEventListener("change", () => onCompare(this.compareSelect.value));
    // On a short screen lab.css clamps the explanation to two lines; this button opens it.
    this.open = false;
    card.addEventListener("click", (e) => {
      if (!e.target.closest(".lab-guide-more")) return;
      this.open = !this.open;
      this.renderCard();
    });
    this.render();
  }

  set(presetId, compare) {
    this.current = presetId;
    this.compare = compare;
    this.render();
  }

  render() {
    this.strip.querySelector(".lab-presets-label").textContent = t("lab.presets");
    this.strip.querySelector(".lab-compare .k").textContent = t("lab.compare_label");
    // A preset chosen by keyboard keeps the focus on its rebuilt link (not <body>, where
    // the next Tab starts over and Space plays).
    const had = this.links.contains(document.activeElement) ? document.activeElement.dataset.preset : null;
    this.links.replaceChildren(
      ...PRESETS.map((p, i) => {
        const a = document.createElement("a");
        a.className = "lab-preset";
        a.dataset.preset = p.id;
        a.innerHTML = `<span class="num">${i + 1}</span><span class="name"></span>`;
        a.querySelector(".name").textContent = t(`lab.preset.${p.id}.short`);
        a.href = this.presetHash(p);
        a.title = t(`lab.preset.${p.id}.title`);
        if (p.id === this.current) a.setAttribute("aria-current", "page");
        return a;
      }),
    );
    if (had) this.links.querySelector(`[data-preset="${had}"]`)?.focus();
    this.compareSelect.replaceChildren(
      ...Object.keys(this.compares).map((name) => {
        const o = document.createElement("option");
        o.value = name;
        o.textContent = t(`lab.compare.${name}`);
        return o;
      }),
    );
    this.compareSelect.value = this.compare;
    this.compareSelect.setAttribute("aria-label", t("lab.compare_label"));
    this.renderCard();
  }

  renderCard() {
    const preset = PRESETS.find((p) => p.id === this.current);
    const p = document.createElement("p");
    const title = document.createElement("strong");
    const n = preset ? PRESETS.indexOf(preset) + 1 : null;
    title.textContent = `${preset ? `(${n}) ${t(`lab.preset.${preset.id}.title`)}` : t("lab.custom.title")}${t("lab.title_end")}`;
    p.appendChild(title);
    const text = preset ? t(`lab.preset.${preset.id}.text`) : t("lab.custom.text");
    p.appendChild(document.createTextNode(text));
    const more = document.createElement("button");
    more.type = "button";
    more.className = "lab-guide-more";
    more.textContent = t(this.open ? "lab.guide_less" : "lab.guide_more");
    more.setAttribute("aria-expanded", String(this.open));
    this.card.classList.toggle("open", this.open);
    this.card.replaceChildren(p, more);
    this.card.dataset.preset = this.current;
  }
}
