// The per-layer numbers of both sides in one table: ‖mean δ‖ (the layer's "speed of
// learning") at the current step, how many times larger it is than the layer before, and
// how many times faster the last hidden layer learns than the first (Nielsen's figures).
// Every cell carries the frame's raw value in data-value.
import { fmt } from "../shared/format.js";
import { t } from "../shared/i18n.js";
import { layerName } from "./charts.js";
import { SIDE_COLORS } from "./constants.js";

export class LabTable {
  constructor(root) {
    this.root = root;
    this.sides = [];
  }

  /** `sides`: [{key, name, topology, frame}] */
  update(sides) {
    this.sides = sides;
    this.render();
  }

  render() {
    const sides = this.sides;
    const topo = sides.find((s) => s.topology)?.topology;
    if (!topo) {
      this.root.replaceChildren();
      return;
    }
    const L = topo.layers.length;
    const table = document.createElement("table");
    table.className = "lab-table";
    const head = table.createTHead();
    const r1 = head.insertRow();
    th(r1, t("lab.table_layer"), { rowSpan: 2, className: "corner" });
    for (const s of sides) {
      const cell = th(r1, `${t(`lab.side_${s.key}`)} · ${s.name}`, { colSpan: 2, className: "side-head" });
      cell.style.color = SIDE_COLORS[s.key];
    }
    const r2 = head.insertRow();
    for (let k = 0; k < sides.length; k += 1) {
      th(r2, t("lab.delta_norm_short"), { title: t("lab.delta_norm_long") });
      th(r2, "×", { title: t("lab.factor_long"), className: "factor" });
    }
    const body = table.createTBody();
    for (let l = 1; l <= L; l += 1) {
      const row = body.insertRow();
      th(row, layerName(l, L), { scope: "row", title: l === L ? t("lab.output_layer") : t("lab.layer", { l }) });
      for (const s of sides) {
        const norms = (k) => s.frame?.layers?.[k - 1]?.norms?.delta;
        const v = norms(l);
        const cell = row.insertCell();
        cell.textContent = fmt(v, 3);
        Object.assign(cell.dataset, { side: s.key, layer: String(l), key: "delta", value: v ?? "" });
        // How many times faster this layer learns than the one before it.
        const prev = l > 1 ? norms(l - 1) : null;
        const factor = prev > 0 && Number.isFinite(v) ? v / prev : null;
        const f = row.insertCell();
        f.className = "factor";
        f.textContent = factor === null ? "" : `${fmt(factor, 2)}×`;
        Object.assign(f.dataset, { side: s.key, layer: String(l), key: "factor", value: factor ?? "" });
      }
    }
    // How many times faster the last hidden layer learns than the first (hidden layers only).
    if (L >= 3) {
      const foot = table.createTFoot();
      const row = foot.insertRow();
      th(row, t("lab.ratio", { n: L - 1 }), { scope: "row", title: t("lab.ratio_note"), className: "ratio" });
      for (const s of sides) {
        const first = s.frame?.layers?.[0]?.norms?.delta;
        const last = s.frame?.layers?.[L - 2]?.norms?.delta;
        const cell = row.insertCell();
        cell.colSpan = 2;
        const ratio = first > 0 && Number.isFinite(last) ? last / first : null;
        cell.textContent = ratio === null ? "—" : `${fmt(ratio, 3)}×`;
        Object.assign(cell.dataset, { side: s.key, key: "ratio", value: ratio ?? "" });
      }
    }
    this.root.replaceChildren(table);
  }
}

function th(row, text, props = {}) {
  const cell = document.createElement("th");
  cell.textContent = text;
  Object.assign(cell, props);
  row.appendChild(cell);
  return cell;
}
