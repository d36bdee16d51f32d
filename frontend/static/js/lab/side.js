// One side of the lab: its header (which value of the compared choice it runs, with a
// select to change it; layer 1's gradient; diverged/clipped badges), the small network diagram, the
// gradient-norm bars and the speed-of-learning lines. Views only: lab.js feeds it frames.
import { fmt } from "../shared/format.js";
import { t } from "../shared/i18n.js";
import { SideCharts } from "./charts.js";
import { layerRamp, SIDE_COLORS } from "./constants.js";
import { LabNetwork } from "./network.js";

/** The label of a compared value (`spec`: its entry of lab/presets.js), e.g. "sigmoid", "clip at 1". */
export function valueLabel(spec, v) {
  return spec ? t(spec.label(v), { v }) : String(v);
}

export class LabSide {
  /** `key`: "a" | "b"; `compares`: lab/presets.js; `onValue(value)` when the reader picks another value. */
  constructor(root, { key, compares, onValue }) {
    this.root = root;
    this.key = key;
    this.compares = compares;
    this.onValue = onValue;
    root.classList.add("lab-side", `side-${key}`);
    root.style.setProperty("--side", SIDE_COLORS[key]);
    root.innerHTML = `
      <div class="lab-side-head">
        <span class="lab-side-tag"></span>
        <select class="lab-value"></select>
        <span class="lab-readout first"><span class="k"></span> <b class="first-dw">—</b></span>
        <span class="badge diverged" hidden></span>
        <span class="badge clipped" hidden></span>
      </div>
      <div class="lab-card lab-net-card">
        <div class="lab-card-title"><span class="title-net"></span><span class="lab-net-legend"><span class="ramp"></span><span class="legend-text"></span></span></div>
        <div class="lab-net"></div>
      </div>
      <div class="lab-card">
        <div class="lab-card-title title-bars"></div>
        <div class="lab-chart bars"></div>
      </div>
      <div class="lab-card">
        <div class="lab-card-title"><span class="title-lines"></span><span class="layer-ramp"><span class="from"></span><span class="ramp"></span><span class="to"></span></span></div>
        <div class="lab-chart lines"></div>
      </div>`;
    this.$ = (sel) => root.querySelector(sel);
    this.select = this.$(".lab-value");
    this.select.addEventListener("change", () => {
      const spec = this.compares[this.compare];
      const v = spec.values[Number(this.select.value)];
      if (v !== undefined) this.onValue(v);
    });
    this.$(".layer-ramp .ramp").style.background = layerRamp();
    this.network = new LabNetwork(this.$(".lab-net"));
    this.charts = new SideCharts({ bars: this.$(".lab-chart.bars"), lines: this.$(".lab-chart.lines") }, (what) => this.chartTitle(what));
    this.compare = null;
    this.value = null;
    this.topology = null;
    this.frame = null;
  }

  /** Which choice is compared and this side's value of it. */
  setChoice(compare, value) {
    this.compare = compare;
    this.value = value;
    this.renderSelect();
  }

  renderSelect() {
    const spec = this.compares[this.compare];
    if (!spec) return;
    this.select.replaceChildren(
      ...spec.values.map((v, i) => {
        const o = document.createElement("option");
        o.value = String(i);
        o.textContent = valueLabel(spec, v);
        return o;
      }),
    );
    this.select.value = String(spec.values.indexOf(this.value));
    this.select.setAttribute("aria-label", t("lab.value_aria", { side: t(`lab.side_${this.key}`), choice: t(`lab.compare.${this.compare}`) }));
  }

  get name() {
    return valueLabel(this.compares[this.compare], this.value);
  }

  /** One of this side's charts named for the keyboard (`key`: its string): "Left (sigmoid): …". */
  chartTitle(key) {
    return t(key, { side: t(`lab.side_${this.key}`), value: this.name });
  }

  setTopology(topology) {
    this.topology = topology;
    this.frame = null;
    this.network.setTopology(topology);
    this.charts.setTopology(topology);
    this.renderHead();
  }

  setFrame(frame) {
    this.frame = frame;
    this.renderHead();
  }

  renderHead() {
    const f = this.frame;
    const first = f?.layers?.[0]?.norms?.dW;
    const cell = this.$(".first-dw");
    cell.textContent = fmt(first, 3);
    cell.dataset.value = first ?? "";
    this.$(".badge.diverged").hidden = !f?.diverged;
    this.$(".badge.clipped").hidden = !(f?.clipped && !f?.diverged);
  }

  relabel() {
    this.$(".lab-side-tag").textContent = t(`lab.side_${this.key}`);
    this.$(".lab-readout.first .k").textContent = t("lab.first_dw");
    this.$(".lab-readout.first").title = t("lab.first_dw_long");
    this.$(".badge.diverged").textContent = t("lab.diverged");
    this.$(".badge.diverged").title = t("banner.diverged_detail");
    this.$(".badge.clipped").textContent = t("lab.clipped");
    this.$(".badge.clipped").title = t("lab.clipped_long");
    this.$(".title-net").textContent = t("lab.net_title");
    this.$(".legend-text").textContent = t("lab.net_legend");
    this.$(".title-bars").textContent = t("lab.bars_title");
    this.$(".title-lines").textContent = t("lab.lines_title");
    this.$(".layer-ramp .from").textContent = "1";
    this.$(".layer-ramp .to").textContent = t("lab.output_short");
    this.$(".layer-ramp").title = t("lab.ramp_long");
    this.renderSelect();
    this.network.relabel();
  }
}
