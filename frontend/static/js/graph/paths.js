// "Why backprop is cheap": for layer sizes, the input-to-output paths a naive chain-rule
// expansion sums against the multiplications backprop does, and both as the network
// grows deeper, on a log scale. Every count is the server's exact one (/api/graph/paths).
import { COLORS } from "../shared/constants.js";
import { has, language, t } from "../shared/i18n.js";
import { countLog, countText, refusedText } from "./words.js";

const DEEPEST = 10; // hidden layers in the table of growing depth

/** The networks of the table: the given one, then 1…DEEPEST hidden layers of its width. */
export function series(sizes, maxWeightLayers) {
  const hidden = sizes.slice(1, -1);
  const width = hidden.length ? Math.max(...hidden) : 4;
  const rows = [];
  const most = Math.min(DEEPEST, maxWeightLayers - 1);
  for (let k = 1; k <= most; k += 1) {
    const grown = [sizes[0], ...Array(k).fill(width), sizes.at(-1)];
    rows.push({ sizes: grown, own: grown.join(",") === sizes.join(",") });
  }
  if (!rows.some((r) => r.own)) rows.unshift({ sizes, own: true, alone: true });
  return rows;
}

export class PathsPanel {
  constructor({ form, input, lead, error, table, fetchCounts, onSizes, limits }) {
    this.input = input;
    this.lead = lead;
    this.error = error;
    this.table = table;
    this.fetchCounts = fetchCounts;
    this.limits = limits;
    this.rows = [];
    this.token = 0;
    const submit = () => {
      const sizes = input.value.split(/[,，\s-]+/).filter(Boolean).map(Number);
      onSizes(sizes);
    };
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      submit();
    });
    input.addEventListener("change", submit);
  }

  /** Whether the server would take `sizes` (its limits, from /api/graph/info). */
  fits(sizes) {
    const l = this.limits;
    return (
      sizes.length >= 2 &&
      sizes.length <= l.max_weight_layers + 1 &&
      sizes.every((n, i) => Number.isInteger(n) && n >= 1 && n <= (i === 0 ? l.max_inputs : l.max_width))
    );
  }

  async setSizes(sizes) {
    this.input.value = sizes.join(",");
    const token = ++this.token;
    const l = this.limits;
    const fail = (why) => {
      if (token !== this.token) return;
      this.error.hidden = false;
      this.error.textContent = t("graph.paths_refused", { why });
      // The refused network has no counts: the last one's sentence and table go too.
      this.rows = [];
      this.lead.textContent = "";
      this.table.replaceChildren();
    };
    if (!this.fits(sizes)) {
      fail(t("graph.sizes_bad", { layers: l.max_weight_layers + 1, inputs: l.max_inputs, width: l.max_width }));
      return;
    }
    const rows = series(sizes, l.max_weight_layers);
    let counts;
    try {
      counts = await Promise.all(rows.map((r) => this.fetchCounts(r.sizes)));
    } catch (e) {
      fail(e.detail ? refusedText(e.detail) : e.message);
      return;
    }
    if (token !== this.token) return;
    this.error.hidden = true;
    this.rows = rows.map((r, k) => ({ ...r, counts: counts[k] }));
    this.render();
  }

  render() {
    if (!this.rows.length) return;
    const lang = language();
    const own = this.rows.find((r) => r.own).counts;
    this.lead.textContent = t("graph.paths_lead", {
      sizes: own.sizes.join("–"),
      paths: countText(own.paths, lang),
      terms: countText(own.naive_terms, lang),
      naive: countText(own.naive_mults, lang),
      backprop: countText(own.backprop_mults, lang),
      fd: countText(own.finite_difference_mults, lang),
    });
    const table = this.table;
    table.replaceChildren();
    const head = table.createTHead().insertRow();
    for (const key of ["network", "paths", "naive", "backprop", "bars"]) {
      const th = document.createElement("th");
      th.textContent = t(`graph.paths_${key}`);
      if (has(`graph.paths_${key}_short`)) {
        // Both headings; a phone shows the short one (graph.css), the long one on hover.
        th.title = th.textContent;
        const long = Object.assign(document.createElement("span"), { className: "long", textContent: th.title });
        const short = Object.assign(document.createElement("span"), { className: "short", textContent: t(`graph.paths_${key}_short`) });
        th.replaceChildren(long, short);
      }
      th.className = key === "network" || key === "bars" ? "" : "num";
      if (key === "naive" || key === "backprop") {
        const swatch = document.createElement("span");
        swatch.className = "bar-key";
        swatch.style.background = key === "naive" ? COLORS.test : COLORS.update;
        th.prepend(swatch);
      }
      head.appendChild(th);
    }
    const top = Math.max(1, ...this.rows.map((r) => countLog(r.counts.naive_mults)));
    const body = table.createTBody();
    for (const r of this.rows) {
      const c = r.counts;
      const row = body.insertRow();
      if (r.own) row.className = "own";
      const name = row.insertCell();
      const depth = t("graph.paths_depth", { k: c.sizes.length - 2 });
      name.textContent = r.alone ? t("graph.paths_yours", { sizes: c.sizes.join("–") }) : r.own ? `${depth} · ${t("graph.paths_yours", { sizes: c.sizes.join("–") })}` : depth;
      for (const value of [c.paths, c.naive_mults, c.backprop_mults]) {
        const td = row.insertCell();
        td.className = "num";
        td.textContent = countText(value, lang);
        if (typeof value === "object") td.title = value.exact;
      }
      const bars = row.insertCell();
      bars.className = "bars";
      for (const [value, colour, key] of [
        [c.naive_mults, COLORS.test, "naive"],
        [c.backprop_mults, COLORS.update, "backprop"],
      ]) {
        const bar = document.createElement("span");
        bar.className = `bar ${key}`;
        bar.style.width = `${Math.max(1.5, (100 * countLog(value)) / top).toFixed(1)}%`;
        bar.style.background = colour;
        bar.title = `${t(`graph.paths_${key}`)}: ${countText(value, lang)}`;
        bars.appendChild(bar);
      }
    }
  }
}
